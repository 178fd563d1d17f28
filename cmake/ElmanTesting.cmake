# Test helpers shared by tests/ and examples/.
#
#   elman_add_program_test(<name> <target> [<arg>...])
#     registers the executable <target> as the test <name>, run through
#     ELMAN_TEST_LAUNCHER: nothing, or valgrind memcheck when
#     ELMAN_VALGRIND=ON (any error or definite/possible leak fails the test).
#
#   elman_add_export_test(<library target> <header>...)
#     registers exports_<target>: a shared library must export exactly the
#     ELMAN_API functions of <header>s, every one prefixed elman_, and carry
#     the expected SONAME. Skipped (not failed) for a static library.
set(ELMAN_TEST_LAUNCHER "")
if(ELMAN_VALGRIND)
  if(ELMAN_SANITIZE)
    message(FATAL_ERROR "ELMAN_VALGRIND and ELMAN_SANITIZE exclude each other")
  endif()
  find_program(ELMAN_VALGRIND_EXECUTABLE valgrind)
  if(NOT ELMAN_VALGRIND_EXECUTABLE)
    message(FATAL_ERROR "ELMAN_VALGRIND=ON but valgrind is not installed")
  endif()
  set(ELMAN_TEST_LAUNCHER ${ELMAN_VALGRIND_EXECUTABLE} --quiet --leak-check=full
    --errors-for-leak-kinds=definite,possible --error-exitcode=1)
endif()

function(elman_add_program_test name target)
  add_test(NAME ${name} COMMAND ${ELMAN_TEST_LAUNCHER} $<TARGET_FILE:${target}> ${ARGN})
endfunction()

function(elman_add_export_test target)
  get_target_property(type ${target} TYPE)
  set(soname "-")
  if(type STREQUAL "SHARED_LIBRARY")
    set(soname "$<TARGET_SONAME_FILE_NAME:${target}>")
  endif()
  set(nm nm)
  if(CMAKE_NM)
    set(nm "${CMAKE_NM}")
  endif()
  set(readelf readelf)
  if(CMAKE_READELF)
    set(readelf "${CMAKE_READELF}")
  endif()
  set(headers "")
  foreach(header IN LISTS ARGN)
    get_filename_component(header "${header}" ABSOLUTE BASE_DIR "${PROJECT_SOURCE_DIR}")
    list(APPEND headers "${header}")
  endforeach()
  add_test(NAME exports_${target}
    COMMAND ${CMAKE_COMMAND} -E env NM=${nm} READELF=${readelf}
      sh "${PROJECT_SOURCE_DIR}/tests/check_exports.sh"
      ${type} $<TARGET_FILE:${target}> ${soname} ${headers})
  set_tests_properties(exports_${target} PROPERTIES SKIP_RETURN_CODE 77)
endfunction()
