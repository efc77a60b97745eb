# End-to-end tests of the operator binary.
add_library(cpo_operator_support STATIC support/operator_process.cpp)
target_link_libraries(cpo_operator_support PUBLIC cpo_test_support PRIVATE cpo_warnings)
target_compile_definitions(cpo_operator_support PRIVATE CPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                           CPO_OPERATOR_BINARY="$<TARGET_FILE:clusterpolicy-operator>")

cpo_integration_test(operator operator_test.cpp)
target_link_libraries(operator PRIVATE cpo_operator_support)
target_compile_definitions(operator PRIVATE CPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(operator clusterpolicy-operator)

cpo_integration_test(config_rollout config_rollout_test.cpp)
target_link_libraries(config_rollout PRIVATE cpo_operator_support cpo_clusterpolicy)
target_compile_definitions(config_rollout PRIVATE CPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(config_rollout clusterpolicy-operator)

cpo_integration_test(config_faults config_faults_test.cpp)
target_link_libraries(config_faults PRIVATE cpo_operator_support cpo_clusterpolicy)
target_compile_definitions(config_faults PRIVATE CPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(config_faults clusterpolicy-operator)

cpo_integration_test(node_labels node_labels_test.cpp)
target_link_libraries(node_labels PRIVATE cpo_operator_support)
target_compile_definitions(node_labels PRIVATE CPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(node_labels clusterpolicy-operator)

cpo_integration_test(config_hostile config_hostile_test.cpp)
target_link_libraries(config_hostile PRIVATE cpo_operator_support cpo_clusterpolicy)
target_compile_definitions(config_hostile PRIVATE CPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(config_hostile clusterpolicy-operator)
