# Reads the version from include/elman.h into ELMAN_VERSION, so that the
# header's ELMAN_VERSION_* macros are the only place the version is written:
# project(), VERSION/SOVERSION, elmanConfigVersion.cmake and elman.pc all
# follow them and cannot drift. Runs before project().
function(elman_read_version header out_var)
  file(STRINGS "${header}" lines
    REGEX "^#define ELMAN_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+ *$")
  foreach(part MAJOR MINOR PATCH)
    set(value "")
    foreach(line IN LISTS lines)
      if(line MATCHES "^#define ELMAN_VERSION_${part} +([0-9]+)")
        set(value "${CMAKE_MATCH_1}")
      endif()
    endforeach()
    if(value STREQUAL "")
      message(FATAL_ERROR "${header}: no '#define ELMAN_VERSION_${part} <number>' line")
    endif()
    set(${part} "${value}")
  endforeach()
  set(${out_var} "${MAJOR}.${MINOR}.${PATCH}" PARENT_SCOPE)
endfunction()

# The ABI version, the shared libraries' SOVERSION (libelman.so.1): a number
# of its own, raised only when the ABI breaks, independent of the 0.x
# project version. Debian's package names follow it (libelman1).
set(ELMAN_SOVERSION 1)
