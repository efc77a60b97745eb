# End-to-end tests of the operator binary.
add_library(cpo_operator_support STATIC support/operator_process.cpp support/fault_proxy.cpp)
target_link_libraries(cpo_operator_support PUBLIC cpo_test_support PRIVATE cpo_warnings)
target_compile_definitions(cpo_operator_support PRIVATE CPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                           CPO_OPERATOR_BINARY="$<TARGET_FILE:clusterpolicy-operator>"
                           CPO_GPU_SIM_BINARY="$<TARGET_FILE:cpo-gpu-sim>"
                           CPO_FAULT_PROXY_BINARY="${CPO_PLATFORM_DIR}/faultproxy/cpo-fault-proxy")

# An end-to-end test: runs the operator binary (linked with the domain library
# for the names and hashes the tests compare with).
function(cpo_operator_test target source)
  cpo_integration_test(${target} ${source})
  target_link_libraries(${target} PRIVATE cpo_operator_support cpo_clusterpolicy)
  target_compile_definitions(${target} PRIVATE CPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_dependencies(${target} clusterpolicy-operator cpo-gpu-sim)
endfunction()

cpo_operator_test(operator operator_test.cpp)
cpo_operator_test(config_rollout config_rollout_test.cpp)
cpo_operator_test(config_faults config_faults_test.cpp)
cpo_operator_test(node_labels node_labels_test.cpp)
cpo_operator_test(config_hostile config_hostile_test.cpp)
cpo_operator_test(config_effect config_effect_test.cpp)
target_link_libraries(config_effect PRIVATE cpo_gpu_sim)
cpo_operator_test(operand_conflict operand_conflict_test.cpp)
cpo_operator_test(metrics_security metrics_security_test.cpp)
cpo_operator_test(api_faults api_faults_test.cpp)
cpo_operator_test(leader_failover leader_failover_test.cpp)
# Every rule of the chart's RBAC is needed: the operator as a fresh ServiceAccount
# holding all rules but one, judged by the API server's audit log and its behaviour.
cpo_operator_test(rbac_needed rbac_needed_test.cpp)
target_sources(rbac_needed PRIVATE support/rbac_identity.cpp support/rbac_operator_run.cpp)
target_link_libraries(rbac_needed PRIVATE yaml-cpp)
target_compile_definitions(rbac_needed PRIVATE CPO_REPO_DIR="${PROJECT_SOURCE_DIR}")
