# Leader election between real processes against the test control plane.
add_executable(lease_candidate ${CMAKE_CURRENT_LIST_DIR}/lease_candidate.cpp)
target_link_libraries(lease_candidate PRIVATE cpo_runtime cpo_warnings)

cpo_integration_test(leader_election leader_election_test.cpp)
target_link_libraries(leader_election PRIVATE cpo_runtime)
target_compile_definitions(leader_election PRIVATE CPO_LEASE_CANDIDATE="$<TARGET_FILE:lease_candidate>")
add_dependencies(leader_election lease_candidate)
