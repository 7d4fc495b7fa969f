# Installs like a Debian tool (issue 16): man pages made from README.md, and shell
# completion.

find_package(Python3 REQUIRED COMPONENTS Interpreter)
find_program(SCANFW_PANDOC pandoc REQUIRED)  # apt-get install pandoc (scripts/setup.sh)
find_program(SCANFW_GZIP gzip REQUIRED)

set(SCANFW_PACKAGING_DIR "${PROJECT_SOURCE_DIR}/packaging")
set(SCANFW_GENERATED_DOC_DIR "${PROJECT_BINARY_DIR}/man")

# ---- man pages: scanfw(1) and scanfw-plugin(7), cut out of README.md ------------------
set(_man_pages "${SCANFW_GENERATED_DOC_DIR}/scanfw.1" "${SCANFW_GENERATED_DOC_DIR}/scanfw-plugin.7")
add_custom_command(
  OUTPUT ${_man_pages}
  COMMAND "${Python3_EXECUTABLE}" "${SCANFW_PACKAGING_DIR}/readme2man.py"
          --readme "${PROJECT_SOURCE_DIR}/README.md" --version "${PROJECT_VERSION}"
          --outdir "${SCANFW_GENERATED_DOC_DIR}" --pandoc "${SCANFW_PANDOC}"
  DEPENDS "${PROJECT_SOURCE_DIR}/README.md" "${SCANFW_PACKAGING_DIR}/readme2man.py"
  COMMENT "Man pages scanfw.1 and scanfw-plugin.7 from README.md"
  VERBATIM)

# Debian wants man pages compressed with gzip -9n (no name, no time:
# the same bytes every build).
set(_gzipped "")
foreach(_file IN ITEMS ${_man_pages})
  get_filename_component(_name "${_file}" NAME)
  set(_out "${SCANFW_GENERATED_DOC_DIR}/${_name}.gz")
  add_custom_command(
    OUTPUT "${_out}"
    COMMAND sh -c "\"$1\" -9n -c \"$2\" > \"$3.tmp\" && mv \"$3.tmp\" \"$3\"" gzip "${SCANFW_GZIP}" "${_file}" "${_out}"
    DEPENDS "${_file}"
    VERBATIM)
  list(APPEND _gzipped "${_out}")
endforeach()
add_custom_target(scanfw_docs ALL DEPENDS ${_gzipped})

# ---- what they install ---------------------------------------------------------------
install(FILES "${SCANFW_GENERATED_DOC_DIR}/scanfw.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT runtime)
install(FILES "${SCANFW_GENERATED_DOC_DIR}/scanfw-plugin.7.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man7" COMPONENT dev)
install(FILES "${SCANFW_PACKAGING_DIR}/completion/scanfw"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" COMPONENT runtime)
install(FILES "${SCANFW_PACKAGING_DIR}/completion/_scanfw"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions" COMPONENT runtime)
