# Defines the imported target elman::cjson (cJSON, Debian: libcjson-dev),
# which elman_io parses safetensors headers with. Follows the convention of
# ElmanFindBLAS.cmake (included by the build and, for a static elman_io, by
# elmanConfig.cmake); sets ELMAN_CJSON_FOUND, ELMAN_CJSON_NOT_FOUND_MESSAGE,
# ELMAN_CJSON_PC_REQUIRES and ELMAN_CJSON_PC_LIBS.
set(ELMAN_CJSON_FOUND FALSE)
set(ELMAN_CJSON_NOT_FOUND_MESSAGE "")
set(ELMAN_CJSON_PC_REQUIRES "")
set(ELMAN_CJSON_PC_LIBS "")

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(ELMAN_LIBCJSON QUIET IMPORTED_TARGET libcjson)
endif()
if(ELMAN_LIBCJSON_FOUND)
  if(NOT TARGET elman::cjson)
    add_library(elman::cjson INTERFACE IMPORTED)
    set_target_properties(elman::cjson PROPERTIES
      INTERFACE_LINK_LIBRARIES PkgConfig::ELMAN_LIBCJSON)
  endif()
  set(ELMAN_CJSON_FOUND TRUE)
  set(ELMAN_CJSON_PC_REQUIRES libcjson)
else()
  set(ELMAN_CJSON_NOT_FOUND_MESSAGE
    "cJSON not found: install it (Debian: libcjson-dev), or configure with -DELMAN_BUILD_IO=OFF")
endif()
