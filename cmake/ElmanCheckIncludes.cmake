# The include boundaries of the parts built on the public API alone
# (docs/ARCHITECTURE.md): the sources of src/io/ (elman_io) and of src/cli/
# (the elman tool) may include only what lies in include/, their own folder
# and src/common/, never the core's private headers such as src/internal.h
# or src/kernels/kernel.h. Run at configure time and, as the tests
# io_include_boundary and cli_include_boundary, with
#   cmake -DELMAN_SOURCE_DIR=<top> -DELMAN_PART=io|cli -P cmake/ElmanCheckIncludes.cmake
if(NOT ELMAN_SOURCE_DIR OR NOT ELMAN_PART MATCHES "^(io|cli)$")
  message(FATAL_ERROR "ElmanCheckIncludes: set ELMAN_SOURCE_DIR, and ELMAN_PART to io or cli")
endif()
set(_allowed_dirs include src/${ELMAN_PART} src/common)
# Headers generated at build time for elman_io (protoc-c, from the ONNX
# schema: cmake/ElmanOnnx.cmake); not in the source tree.
set(_generated "")
if(ELMAN_PART STREQUAL "io")
  set(_generated onnx.pb-c.h)
endif()
file(GLOB _files "${ELMAN_SOURCE_DIR}/src/${ELMAN_PART}/*.c"
  "${ELMAN_SOURCE_DIR}/src/${ELMAN_PART}/*.h" "${ELMAN_SOURCE_DIR}/src/common/*.h")
set(_bad "")
foreach(_f IN LISTS _files)
  file(STRINGS "${_f}" _lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(_line IN LISTS _lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" _inc "${_line}")
    set(_ok FALSE)
    list(FIND _generated "${_inc}" _gen_index)
    if(_gen_index GREATER -1)
      set(_ok TRUE)
    endif()
    foreach(_d IN LISTS _allowed_dirs)
      if(EXISTS "${ELMAN_SOURCE_DIR}/${_d}/${_inc}" AND NOT _inc MATCHES "\\.\\.")
        set(_ok TRUE)
      endif()
    endforeach()
    if(NOT _ok)
      file(RELATIVE_PATH _rel "${ELMAN_SOURCE_DIR}" "${_f}")
      string(APPEND _bad "\n  ${_rel}: #include \"${_inc}\"")
    endif()
  endforeach()
endforeach()
if(_bad)
  message(FATAL_ERROR "src/${ELMAN_PART}/ may include only headers of include/, "
    "src/${ELMAN_PART}/ and src/common/ (the core's internals are off limits):${_bad}")
endif()
