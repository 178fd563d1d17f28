# The optional ONNX loader of elman_io: ELMAN_ONNX = AUTO (default), ON or OFF.
#
# The model is read with libprotobuf-c and C code that protoc-c generates at
# build time from the ONNX schema Debian ships in libonnx-dev
# (/usr/include/onnx/onnx.proto); no generated code is kept in the tree.
# AUTO builds the loader when all three are there, ON fails without them,
# OFF leaves it out (src/io/onnx_none.c: the ONNX functions then return
# ELMAN_ERR_UNSUPPORTED, so the API is the same either way).
#
# Sets ELMAN_ONNX_ENABLED and ELMAN_ONNX_SOURCES (the sources to add to
# elman_io); libprotobuf-c is found by ElmanFindPROTOBUFC.cmake (the
# imported target elman::protobufc, a DEPENDENCIES entry of the install).
# elman_onnx_setup(<target>) adds the generated code's directory and the
# library to <target>.
set(ELMAN_ONNX AUTO CACHE STRING "Build the ONNX loader of elman_io: AUTO, ON or OFF")
set_property(CACHE ELMAN_ONNX PROPERTY STRINGS AUTO ON OFF)
set(ELMAN_ONNX_PROTO "/usr/include/onnx/onnx.proto" CACHE FILEPATH
  "The ONNX schema (onnx.proto) the loader's protobuf code is generated from")

set(ELMAN_ONNX_ENABLED FALSE)
set(ELMAN_ONNX_SOURCES src/io/onnx_none.c)

if(NOT ELMAN_ONNX STREQUAL "OFF")
  set(_elman_onnx_missing "")
  include(ElmanFindPROTOBUFC)
  if(NOT ELMAN_PROTOBUFC_FOUND)
    list(APPEND _elman_onnx_missing "libprotobuf-c (Debian: libprotobuf-c-dev)")
  endif()
  find_program(ELMAN_PROTOC_C protoc-c)
  if(NOT ELMAN_PROTOC_C)
    list(APPEND _elman_onnx_missing "protoc-c (Debian: protobuf-c-compiler)")
  endif()
  if(NOT EXISTS "${ELMAN_ONNX_PROTO}")
    list(APPEND _elman_onnx_missing "${ELMAN_ONNX_PROTO} (Debian: libonnx-dev)")
  endif()

  if(_elman_onnx_missing STREQUAL "")
    set(ELMAN_ONNX_ENABLED TRUE)
    # protoc-c names its output after the .proto file: onnx.pb-c.c/.h.
    get_filename_component(_elman_proto_dir "${ELMAN_ONNX_PROTO}" DIRECTORY)
    get_filename_component(_elman_proto_name "${ELMAN_ONNX_PROTO}" NAME_WE)
    set(ELMAN_ONNX_GEN_DIR "${PROJECT_BINARY_DIR}/onnx_gen")
    set(_elman_pb_c "${ELMAN_ONNX_GEN_DIR}/${_elman_proto_name}.pb-c.c")
    set(_elman_pb_h "${ELMAN_ONNX_GEN_DIR}/${_elman_proto_name}.pb-c.h")
    add_custom_command(
      OUTPUT "${_elman_pb_c}" "${_elman_pb_h}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${ELMAN_ONNX_GEN_DIR}"
      COMMAND ${ELMAN_PROTOC_C} "--proto_path=${_elman_proto_dir}"
              "--c_out=${ELMAN_ONNX_GEN_DIR}" "${ELMAN_ONNX_PROTO}"
      DEPENDS "${ELMAN_ONNX_PROTO}"
      COMMENT "Generating the ONNX protobuf code with protoc-c"
      VERBATIM)
    set(ELMAN_ONNX_SOURCES src/io/onnx.c src/io/onnx_graph.c "${_elman_pb_c}")
    # The generated file is not ours: no warnings flags on it, and no
    # -Werror over code we do not write.
    set_source_files_properties("${_elman_pb_c}" PROPERTIES GENERATED TRUE
      COMPILE_OPTIONS "-w")
    message(STATUS "elman: ONNX loader enabled (${ELMAN_ONNX_PROTO})")
  elseif(ELMAN_ONNX STREQUAL "ON")
    string(REPLACE ";" ", " _elman_onnx_missing "${_elman_onnx_missing}")
    message(FATAL_ERROR "ELMAN_ONNX=ON but missing: ${_elman_onnx_missing}")
  else()
    string(REPLACE ";" ", " _elman_onnx_missing "${_elman_onnx_missing}")
    message(STATUS "elman: ONNX loader not built (missing: ${_elman_onnx_missing})")
  endif()
endif()

function(elman_onnx_setup target)
  if(ELMAN_ONNX_ENABLED)
    target_include_directories(${target} SYSTEM PRIVATE "${ELMAN_ONNX_GEN_DIR}")
    target_link_libraries(${target} PRIVATE elman::protobufc)
    target_compile_definitions(${target} PRIVATE ELMAN_HAVE_ONNX=1)
  endif()
endfunction()
