# Migration mode of the shim (docs/migration.md, "The shim endpoint"):
# included by CMakeLists.txt after the library is declared. The engine,
# the chunk hash and the control-request parser come from src/core
# (compiled in, hidden like the rest); the control channel uses jansson,
# the hash xxhash.
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
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_wrap.c ${CMAKE_CURRENT_SOURCE_DIR}/mig_endpoint.c
  ${CMAKE_CURRENT_SOURCE_DIR}/mig_ctl.c ${GV_SHIM_GEN}/gv_mig_refuse.c
  ${CMAKE_SOURCE_DIR}/src/core/migrate.c ${CMAKE_SOURCE_DIR}/src/core/chunkhash.c
  ${CMAKE_SOURCE_DIR}/src/core/migctl.c)
target_link_libraries(gpuvisor-cuda PRIVATE PkgConfig::JANSSON PkgConfig::XXHASH)
