# Finds the libraries through pkg-config. With TF_STATIC, PKG_CONFIG_PATH points at the
# musl-built prefix (see scripts/static-deps.sh) and the static flags are used.
find_package(PkgConfig REQUIRED)
set(tf_pc_mods libarchive openssl zlib libcjson yaml-0.1 libssh)
foreach(mod IN LISTS tf_pc_mods)
	string(REGEX REPLACE "[^A-Za-z0-9]" "_" var "${mod}")
	pkg_check_modules(PC_${var} REQUIRED IMPORTED_TARGET ${mod})
endforeach()
add_library(tf::archive ALIAS PkgConfig::PC_libarchive)
add_library(tf::openssl ALIAS PkgConfig::PC_openssl)
add_library(tf::zlib ALIAS PkgConfig::PC_zlib)
add_library(tf::cjson ALIAS PkgConfig::PC_libcjson)
add_library(tf::yaml ALIAS PkgConfig::PC_yaml_0_1)
add_library(tf::ssh ALIAS PkgConfig::PC_libssh)
