# Reads the version from include/elman.h into ELMAN_VERSION, and the ABI
# generation into ELMAN_SOVERSION (in the caller's scope), so that the
# header's ELMAN_VERSION_* and ELMAN_SOVERSION macros are the only place
# either is written: project(), VERSION/SOVERSION of libelman and
# libelman_io, elmanConfigVersion.cmake and elman.pc all follow them and
# cannot drift. The SOVERSION is a number of its own: it moves only when the
# ABI breaks (the policy is in the header), not with the major version.
# Runs before project().
function(elman_read_version header out_var)
  file(STRINGS "${header}" lines
    REGEX "^#define ELMAN_(VERSION_MAJOR|VERSION_MINOR|VERSION_PATCH|SOVERSION) +[0-9]+ *$")
  foreach(part VERSION_MAJOR VERSION_MINOR VERSION_PATCH SOVERSION)
    set(value "")
    foreach(line IN LISTS lines)
      if(line MATCHES "^#define ELMAN_${part} +([0-9]+)")
        set(value "${CMAKE_MATCH_1}")
      endif()
    endforeach()
    if(value STREQUAL "")
      message(FATAL_ERROR "${header}: no '#define ELMAN_${part} <number>' line")
    endif()
    set(${part} "${value}")
  endforeach()
  set(${out_var} "${VERSION_MAJOR}.${VERSION_MINOR}.${VERSION_PATCH}" PARENT_SCOPE)
  set(ELMAN_SOVERSION "${SOVERSION}" PARENT_SCOPE)
endfunction()

# The ABI version, the shared libraries' SOVERSION (libelman.so.1): a number
# of its own, raised only when the ABI breaks, independent of the 0.x
# project version. Debian's package names follow it (libelman1).
set(ELMAN_SOVERSION 1)
