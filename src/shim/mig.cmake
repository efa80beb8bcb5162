# Migration mode of the shim (docs/migration.md, "The shim endpoint"):
# included by CMakeLists.txt after the library is declared.
# The shim must load in any workload's environment (a container image may
# lack jansson or xxhash), so it depends on libc only: the chunk hash is
# compiled in with xxhash inline (XXH_INLINE_ALL), and everything that needs
# jansson (control thread, engine, report) is the plugin libgpuvisor-mig.so
# next to it, dlopened in migration mode only (plugin/mig_plugin.h).
add_custom_command(
  OUTPUT ${GV_SHIM_GEN}/gv_mig_refuse.c
  COMMAND ${CMAKE_COMMAND} -E make_directory ${GV_SHIM_GEN}
  COMMAND ${CMAKE_COMMAND}
          -DREFUSE=${CMAKE_CURRENT_SOURCE_DIR}/mig-refuse.txt
          -DOUT=${GV_SHIM_GEN}/gv_mig_refuse.c
          -P ${CMAKE_CURRENT_SOURCE_DIR}/gen-mig-refuse.cmake
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/mig-refuse.txt
          ${CMAKE_CURRENT_SOURCE_DIR}/gen-mig-refuse.cmake
  COMMENT "Generating the migration mode's refusing stubs"
  VERBATIM)
target_sources(gpuvisor-cuda PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_init.c ${CMAKE_CURRENT_SOURCE_DIR}/mig_gate.c
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_obj.c ${CMAKE_CURRENT_SOURCE_DIR}/mig_mem.c
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap.c ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap_device.c
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap_ctx.c ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap_module.c
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap_stream.c ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap_mem.c
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap_copy.c ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap_launch.c
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_endpoint.c
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_host.c ${CMAKE_CURRENT_SOURCE_DIR}/mig_throttle.c
  ${GV_SHIM_GEN}/gv_mig_refuse.c
  ${CMAKE_SOURCE_DIR}/src/core/chunkhash.c)
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/core/chunkhash.c
  TARGET_DIRECTORY gpuvisor-cuda PROPERTIES COMPILE_DEFINITIONS XXH_INLINE_ALL)

# The plugin (plugin/, as CRIU keeps plugins/): the control thread, the
# engine and the JSON (plugin/mig_plugin.h, the whole interface).
add_library(gpuvisor-mig SHARED
  ${CMAKE_CURRENT_SOURCE_DIR}/plugin/mig_ctl.c ${CMAKE_SOURCE_DIR}/src/core/migrate.c
  ${CMAKE_SOURCE_DIR}/src/core/migctl.c ${CMAKE_SOURCE_DIR}/src/core/chunkhash.c
  ${CMAKE_SOURCE_DIR}/src/core/jsonfield.c)
set_target_properties(gpuvisor-mig PROPERTIES
  C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib/shim)
target_link_options(gpuvisor-mig PRIVATE -Wl,-Bsymbolic -Wl,-z,defs)
target_link_libraries(gpuvisor-mig PRIVATE gvbase PkgConfig::JANSSON PkgConfig::XXHASH
                      Threads::Threads)
add_dependencies(gpuvisor-cuda gpuvisor-mig)
# beside the shim's real file, where the shim looks for it (resolve.c)
install(TARGETS gpuvisor-mig LIBRARY DESTINATION ${GV_LIBDIR}/shim)
