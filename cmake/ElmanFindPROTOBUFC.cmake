# Defines the imported target elman::protobufc (libprotobuf-c, Debian:
# libprotobuf-c-dev), which elman_io's ONNX loader decodes models with.
# Follows the convention of ElmanFindCJSON.cmake (included by the build via
# ElmanOnnx.cmake and, for a static elman_io, by elmanConfig.cmake); sets
# ELMAN_PROTOBUFC_FOUND, ELMAN_PROTOBUFC_NOT_FOUND_MESSAGE,
# ELMAN_PROTOBUFC_PC_REQUIRES and ELMAN_PROTOBUFC_PC_LIBS.
set(ELMAN_PROTOBUFC_FOUND FALSE)
set(ELMAN_PROTOBUFC_NOT_FOUND_MESSAGE "")
set(ELMAN_PROTOBUFC_PC_REQUIRES "")
set(ELMAN_PROTOBUFC_PC_LIBS "")

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(ELMAN_LIBPROTOBUFC QUIET IMPORTED_TARGET libprotobuf-c)
endif()
if(ELMAN_LIBPROTOBUFC_FOUND)
  if(NOT TARGET elman::protobufc)
    add_library(elman::protobufc INTERFACE IMPORTED)
    set_target_properties(elman::protobufc PROPERTIES
      INTERFACE_LINK_LIBRARIES PkgConfig::ELMAN_LIBPROTOBUFC)
  endif()
  set(ELMAN_PROTOBUFC_FOUND TRUE)
  set(ELMAN_PROTOBUFC_PC_REQUIRES libprotobuf-c)
else()
  set(ELMAN_PROTOBUFC_NOT_FOUND_MESSAGE
    "libprotobuf-c not found: install it (Debian: libprotobuf-c-dev), or configure with -DELMAN_ONNX=OFF")
endif()
