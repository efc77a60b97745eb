# Deployment artefacts (crds/, examples/, charts/.../files/*-rules.yaml, manifests/)
# checked against the real API server.
cpo_integration_test(crd crd_test.cpp)
cpo_integration_test(deploy_rbac deploy_rbac_test.cpp)
target_link_libraries(crd PRIVATE yaml-cpp)
target_compile_definitions(crd PRIVATE CPO_REPO_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(deploy_rbac PRIVATE yaml-cpp)
target_compile_definitions(deploy_rbac PRIVATE CPO_REPO_DIR="${PROJECT_SOURCE_DIR}")
