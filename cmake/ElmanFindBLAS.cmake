# Provides the imported target elman_blas: a CBLAS (OpenBLAS) library with
# its cblas.h. pkg-config's "openblas" module gives header and library of the
# same build (Debian installs several); FindBLAS is the fallback, with
# cblas.h searched next to it.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(ELMAN_OPENBLAS QUIET IMPORTED_TARGET openblas)
endif()

if(ELMAN_OPENBLAS_FOUND)
  add_library(elman_blas INTERFACE IMPORTED)
  target_link_libraries(elman_blas INTERFACE PkgConfig::ELMAN_OPENBLAS)
else()
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS REQUIRED)
  find_path(ELMAN_CBLAS_INCLUDE_DIR cblas.h
    PATH_SUFFIXES openblas openblas-pthread x86_64-linux-gnu/openblas-pthread
                  aarch64-linux-gnu/openblas-pthread)
  if(NOT ELMAN_CBLAS_INCLUDE_DIR)
    message(FATAL_ERROR "cblas.h not found: install OpenBLAS (Debian: libopenblas-dev)")
  endif()
  add_library(elman_blas INTERFACE IMPORTED)
  target_link_libraries(elman_blas INTERFACE ${BLAS_LIBRARIES})
  target_include_directories(elman_blas INTERFACE ${ELMAN_CBLAS_INCLUDE_DIR})
endif()
