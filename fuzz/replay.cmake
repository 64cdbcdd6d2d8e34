# Corpus replay: every fuzz target's seeds (fuzz/corpus/fuzz_NAME/) through its harness as
# a ctest `fuzz_replay_NAME` (label fuzz), in whatever build the tests are part of: gcc,
# clang, ASan+UBSan, TSan. Included from tests/CMakeLists.txt.
#
# An ordinary build compiles fuzz/CMakeLists.txt's targets again with the project's own
# flags and replay_main.c in place of libFuzzer (ipfuzz_add hands over to
# ipfuzz_replay_add), so the target list and each target's sources are written once.
# A libFuzzer build (IOTPLOT_FUZZ=ON) already has the real binaries: they replay with -runs=0.
set(IPFUZZ_CORPUS ${CMAKE_SOURCE_DIR}/fuzz/corpus)

function(ipfuzz_replay_test name)
  add_test(NAME fuzz_replay_${name} COMMAND $<TARGET_FILE:${name}> ${ARGN} ${IPFUZZ_CORPUS}/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
endfunction()

if(IOTPLOT_FUZZ)
  # The top level adds fuzz/ after the tests: name the targets from the harness files.
  file(GLOB harnesses ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(h ${harnesses})
    get_filename_component(name ${h} NAME_WE)
    ipfuzz_replay_test(${name} -runs=0)
  endforeach()
else()
  # ipfuzz_replay_add(NAME SOURCES... [INCLUDES dir...] [LIBS lib...]): ipfuzz_add's
  # arguments; the harness and its sources with replay_main.c, no fuzzer flags.
  function(ipfuzz_replay_add name)
    cmake_parse_arguments(A "" "" "INCLUDES;LIBS" ${ARGN})
    add_executable(${name} ${CMAKE_SOURCE_DIR}/fuzz/replay_main.c ${A_UNPARSED_ARGUMENTS})
    target_include_directories(${name} PRIVATE ${IOTPLOT_INCLUDE} ${CMAKE_SOURCE_DIR}/src
                               ${CMAKE_SOURCE_DIR}/src/broker
                               ${CMAKE_SOURCE_DIR}/fuzz ${A_INCLUDES})
    target_link_libraries(${name} PRIVATE ${A_LIBS})
    # The harnesses are written for clang's fuzz build, without -Werror: here their
    # warnings show but do not stop the tests. gcc's flow analysis misreads their
    # zero-length copies (fuzz_decode's empty frame) as uninitialised reads.
    target_compile_options(${name} PRIVATE -Wno-error
                           $<$<C_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
    ipfuzz_replay_test(${name})
  endfunction()
  set(IPFUZZ_REPLAY ON)
  add_subdirectory(${CMAKE_SOURCE_DIR}/fuzz ${CMAKE_BINARY_DIR}/fuzz-replay)
endif()
