# Man pages elman(1) and elman-export(1), generated at build time from the
# programs' own --help, so that they cannot drift from it:
#   elman(1):        `elman --help` is laid out like a man page already;
#                    cmake/help2roff.awk turns its sections into roff.
#   elman-export(1): help2man, from the exporter's argparse --help (which
#                    runs without torch).
# ELMAN_MAN_PAGES: AUTO (default) builds them when help2man and awk are
# found, ON requires them, OFF skips them. cmake --install puts them in
# <mandir>/man1.
set(ELMAN_MAN_PAGES AUTO CACHE STRING "Build and install the man pages (AUTO, ON, OFF)")
set_property(CACHE ELMAN_MAN_PAGES PROPERTY STRINGS AUTO ON OFF)

# elman_man_pages(<tool target> <exporter script>)
function(elman_man_pages tool exporter)
  if(ELMAN_MAN_PAGES STREQUAL "OFF")
    return()
  endif()
  # The pages come from running the programs built here.
  if(CMAKE_CROSSCOMPILING AND NOT ELMAN_MAN_PAGES STREQUAL "ON")
    message(STATUS "Man pages: not built (cross-compiling)")
    return()
  endif()
  find_program(ELMAN_HELP2MAN help2man)
  find_program(ELMAN_AWK NAMES gawk mawk awk)
  if(NOT ELMAN_HELP2MAN OR NOT ELMAN_AWK)
    if(ELMAN_MAN_PAGES STREQUAL "ON")
      message(FATAL_ERROR "ELMAN_MAN_PAGES=ON needs help2man and awk (apt-get install help2man)")
    endif()
    message(STATUS "Man pages: not built (help2man or awk not found)")
    return()
  endif()
  # Reproducible: string(TIMESTAMP) honours SOURCE_DATE_EPOCH, as help2man does.
  string(TIMESTAMP date "%B %Y" UTC)
  set(dir "${PROJECT_BINARY_DIR}/man")
  set(source "elman ${PROJECT_VERSION}")

  add_custom_command(OUTPUT "${dir}/elman.1"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${dir}"
    COMMAND $<TARGET_FILE:${tool}> --help > "${dir}/elman.help"
    COMMAND "${ELMAN_AWK}" -v name=elman -v section=1 -v "date=${date}" -v "source=${source}"
      -f "${PROJECT_SOURCE_DIR}/cmake/help2roff.awk" "${dir}/elman.help" > "${dir}/elman.1"
    DEPENDS ${tool} "${PROJECT_SOURCE_DIR}/cmake/help2roff.awk"
    COMMENT "Generating elman.1 from elman --help"
    VERBATIM)

  # help2man names the page after the program it runs: give it the
  # exporter under its installed name.
  configure_file("${exporter}" "${dir}/elman-export" COPYONLY)
  add_custom_command(OUTPUT "${dir}/elman-export.1"
    COMMAND "${ELMAN_HELP2MAN}" --no-info --no-discard-stderr
      --name "save a PyTorch nn.RNN as safetensors for elman"
      --version-string "${PROJECT_VERSION}" --source "${source}"
      --output "${dir}/elman-export.1" "${dir}/elman-export"
    DEPENDS "${exporter}"
    COMMENT "Generating elman-export.1 from elman-export --help"
    VERBATIM)

  add_custom_target(elman_man_pages ALL DEPENDS "${dir}/elman.1" "${dir}/elman-export.1")
  if(ELMAN_INSTALL)
    install(FILES "${dir}/elman.1" "${dir}/elman-export.1"
      DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
  endif()
endfunction()
