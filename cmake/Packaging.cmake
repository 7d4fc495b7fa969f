# Installs like a Debian tool (issue 16): man pages made from README.md, shell
# completion, the documentation Debian asks for, and two Debian packages made by CPack
# from the same install() rules as `cmake --install`:
#
#   cmake --build build --target package
#     -> build/scanfw_<version>-<revision>_<arch>.deb   component "runtime"
#        build/scanfw-dev_<version>-<revision>_all.deb  component "dev"
#
# <version> is project(VERSION); <revision> and the maintainer come from the top entry
# of packaging/changelog, which is installed as changelog.Debian.gz.

find_package(Python3 REQUIRED COMPONENTS Interpreter)
find_program(SCANFW_PANDOC pandoc)
if(NOT SCANFW_PANDOC)
  message(FATAL_ERROR "pandoc not found: it makes the man pages from README.md "
                      "(apt-get install pandoc; scripts/setup.sh installs it)")
endif()
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

# Debian wants man pages and changelogs compressed with gzip -9n (no name, no time:
# the same bytes every build).
set(_gzipped "")
foreach(_file IN ITEMS ${_man_pages} "${PROJECT_SOURCE_DIR}/README.md" "${SCANFW_PACKAGING_DIR}/changelog")
  get_filename_component(_name "${_file}" NAME)
  if(_name STREQUAL "changelog")
    set(_name "changelog.Debian")
  endif()
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
# Each package has its own doc folder with the copyright file and the changelog.
foreach(_pkg_component IN ITEMS "scanfw;runtime" "scanfw-dev;dev")
  list(GET _pkg_component 0 _pkg)
  list(GET _pkg_component 1 _component)
  install(FILES "${SCANFW_PACKAGING_DIR}/copyright" "${SCANFW_GENERATED_DOC_DIR}/changelog.Debian.gz"
          DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/${_pkg}" COMPONENT ${_component})
endforeach()
install(FILES "${SCANFW_GENERATED_DOC_DIR}/README.md.gz"
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/scanfw" COMPONENT runtime)

# ---- the packages --------------------------------------------------------------------
# The top entry of packaging/changelog: "scanfw (0.1.0-1) unstable; ..." and its
# " -- Name <address>  date" line.
file(STRINGS "${SCANFW_PACKAGING_DIR}/changelog" _changelog_head LIMIT_COUNT 1)
file(STRINGS "${SCANFW_PACKAGING_DIR}/changelog" _changelog_sig REGEX "^ -- " LIMIT_COUNT 1)
if(NOT _changelog_head MATCHES "^scanfw \\(([^)]+)-([^)-]+)\\) ")
  message(FATAL_ERROR "packaging/changelog: the first line must read 'scanfw (VERSION-REVISION) ...', not '${_changelog_head}'")
endif()
set(SCANFW_DEB_UPSTREAM_VERSION "${CMAKE_MATCH_1}")
set(SCANFW_DEB_REVISION "${CMAKE_MATCH_2}")
if(NOT _changelog_sig MATCHES "^ -- (.+ <[^>]+>)  ")
  message(FATAL_ERROR "packaging/changelog: no ' -- Name <address>  date' line")
endif()
set(SCANFW_DEB_MAINTAINER "${CMAKE_MATCH_1}")
set(_package_check "${PROJECT_BINARY_DIR}/CPackCheckVersion.cmake")
if(NOT SCANFW_DEB_UPSTREAM_VERSION STREQUAL PROJECT_VERSION)
  set(_why "packaging/changelog's top entry is for ${SCANFW_DEB_UPSTREAM_VERSION}, the project is ${PROJECT_VERSION}: add an entry (dch -c packaging/changelog -v ${PROJECT_VERSION}-1)")
  message(WARNING "${_why}; the packages cannot be made until then")
  file(WRITE "${_package_check}" "message(FATAL_ERROR \"${_why}\")\n")
else()
  file(WRITE "${_package_check}" "# packaging/changelog matches the project's version\n")
endif()
set(CPACK_PROJECT_CONFIG_FILE "${_package_check}")  # read by cpack before it packages

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME scanfw)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${SCANFW_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # lintian: unstripped-binary-or-object
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # scanfw_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE "${SCANFW_DEB_REVISION}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SCANFW_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(_deb_version "${PROJECT_VERSION}-${SCANFW_DEB_REVISION}")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME scanfw)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION net)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)  # Depends: from the ELF files, by dpkg-shlibdeps
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SUGGESTS "libcap2-bin")  # setcap, for raw scans by users
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION [=[port scanner whose scan techniques are plugins
scanfw sends raw probes, captures the replies with libpcap, matches them to
what it sent, retransmits, paces and reports. Each scan technique (SYN,
connect, ACK, Window, NULL, FIN, Xmas, Maimon, UDP, IP protocol, ...) is a
plugin that says what to send and what a reply, or silence, means. States,
reasons and output formats (XML, grepable, normal) are nmap's; JSON Lines too.
Scans are described on the command line or in YAML profiles.]=])

set(CPACK_DEBIAN_DEV_PACKAGE_NAME scanfw-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE all)  # headers and CMake files only
# find_package(scanfw) finds Boost (scanfwConfig.cmake); plugins load into this scanfw.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "scanfw (= ${_deb_version}), libboost-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION [=[plugin SDK for the scanfw port scanner
Headers and CMake package for writing scanfw scan techniques out of scanfw's
tree: find_package(scanfw) and scanfw_add_plugin() build a technique as a
shared object that scanfw loads by name. scanfw-plugin(7) describes the
contract between the scanner and a technique.]=])

include(CPack)
