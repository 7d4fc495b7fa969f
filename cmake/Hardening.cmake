# Debian's hardening flags (what `dpkg-buildflags` gives with hardening=+all): stack
# protector, stack clash protection, control-flow protection, _FORTIFY_SOURCE, full
# RELRO with immediate binding, and PIE. Lintian checks the packaged binaries for
# them. Not with the sanitizers or the fuzzers: ASan and _FORTIFY_SOURCE replace the
# same functions.
option(SCANFW_HARDENING "Build with Debian's hardening flags" ON)
if(SCANFW_HARDENING AND NOT SCANFW_SANITIZE AND NOT SCANFW_FUZZ)
  include(CheckCXXCompilerFlag)
  include(CheckPIESupported)
  check_pie_supported()  # with CMAKE_POSITION_INDEPENDENT_CODE, executables link with -pie
  add_compile_options(-fstack-protector-strong -Wformat -Werror=format-security
                      # needs optimisation, which Debug lacks
                      "$<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
  foreach(_flag -fstack-clash-protection -fcf-protection)
    string(MAKE_C_IDENTIFIER "SCANFW_HAS${_flag}" _var)
    check_cxx_compiler_flag(${_flag} ${_var})
    if(${_var})
      add_compile_options(${_flag})
    endif()
  endforeach()
  add_link_options(LINKER:-z,relro LINKER:-z,now)
endif()
