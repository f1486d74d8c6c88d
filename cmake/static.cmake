# TF_STATIC: tiferry as one fully static binary, linked with musl against the libraries that
# scripts/static-deps.sh builds from Debian's sources. Included by cmake/deps.cmake; defines
# the same tf::<lib> targets as the dynamic build, from pkg-config's --static answers.
#
#   CC=musl-gcc cmake -S . -B build-static -DTF_STATIC=ON -DTF_STATIC_PREFIX=$(scripts/static-deps.sh | tail -n1)
include(CheckCSourceCompiles)

set(TF_STATIC_PREFIX "" CACHE PATH "Prefix built by scripts/static-deps.sh (its last output line)")
if(NOT TF_STATIC_PREFIX OR NOT EXISTS "${TF_STATIC_PREFIX}/.complete")
	message(FATAL_ERROR "TF_STATIC needs -DTF_STATIC_PREFIX=<the last line printed by "
		"scripts/static-deps.sh>; '${TF_STATIC_PREFIX}' is not a complete prefix")
endif()

# glibc's static libc cannot resolve host names on another system (NSS) and Debian's .a files
# drag in GSSAPI: only musl gives a binary that runs on any Linux.
check_c_source_compiles("#include <stdio.h>
#ifdef __GLIBC__
#error glibc
#endif
int main(void) { return 0; }" TF_STATIC_IS_MUSL)
if(NOT TF_STATIC_IS_MUSL)
	message(FATAL_ERROR "TF_STATIC needs the musl compiler: configure a fresh build folder with CC=musl-gcc")
endif()

# Only the prefix's .pc files, never the host's (glibc-built) ones; set on every configure
# because the environment of the first one is not remembered.
set(ENV{PKG_CONFIG_LIBDIR} "${TF_STATIC_PREFIX}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "${TF_STATIC_PREFIX}/lib/pkgconfig")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})

# The libraries musl's libc.a already contains; their .a files are empty stubs.
set(tf_static_libc_names c dl m pthread rt util resolv xnet)

# tf_static_module(<var>): PC_<var>_STATIC_* (from pkg_check_modules) into an INTERFACE
# target tf_static_<var>. Every archive becomes an imported target that depends on the archives
# pkg-config lists after it, so CMake orders (and repeats) them correctly on the link line
# whatever order our libraries are linked in.
function(tf_static_module var)
	set(names ${PC_${var}_STATIC_LIBRARIES})
	list(REVERSE names)
	set(after "")
	foreach(name IN LISTS names)
		if(name IN_LIST tf_static_libc_names)
			set(item "${name}")
		else()
			set(item tf_static_lib_${name})
			if(NOT TARGET ${item})
				set(path "")
				foreach(dir IN LISTS PC_${var}_STATIC_LIBRARY_DIRS)
					if(NOT path AND EXISTS "${dir}/lib${name}.a")
						set(path "${dir}/lib${name}.a")
					endif()
				endforeach()
				if(NOT path)
					message(FATAL_ERROR "TF_STATIC: lib${name}.a (for ${var}) is not in "
						"${PC_${var}_STATIC_LIBRARY_DIRS}")
				endif()
				add_library(${item} STATIC IMPORTED GLOBAL)
				set_target_properties(${item} PROPERTIES IMPORTED_LOCATION "${path}")
			endif()
			if(after)
				set_property(TARGET ${item} APPEND PROPERTY INTERFACE_LINK_LIBRARIES ${after})
			endif()
		endif()
		list(PREPEND after ${item})
	endforeach()
	add_library(tf_static_${var} INTERFACE IMPORTED GLOBAL)
	set_target_properties(tf_static_${var} PROPERTIES
		INTERFACE_INCLUDE_DIRECTORIES "${PC_${var}_STATIC_INCLUDE_DIRS}"
		INTERFACE_COMPILE_OPTIONS "${PC_${var}_STATIC_CFLAGS_OTHER}"
		INTERFACE_LINK_LIBRARIES "${after}"
		INTERFACE_LINK_OPTIONS "${PC_${var}_STATIC_LDFLAGS_OTHER}")
endfunction()

# pkg_check_modules keeps its answers in the cache and asks again only when its arguments
# change: a new prefix (new versions, new key) must be asked for explicitly.
if(NOT TF_STATIC_PREFIX STREQUAL "${TF_STATIC_PREFIX_USED}")
	foreach(mod IN LISTS tf_pc_mods)
		string(REGEX REPLACE "[^A-Za-z0-9]" "_" var "${mod}")
		unset(__pkg_config_checked_PC_${var} CACHE)
	endforeach()
	set(TF_STATIC_PREFIX_USED "${TF_STATIC_PREFIX}" CACHE INTERNAL "prefix the PC_* answers are for")
endif()
foreach(mod IN LISTS tf_pc_mods)
	string(REGEX REPLACE "[^A-Za-z0-9]" "_" var "${mod}")
	pkg_check_modules(PC_${var} REQUIRED ${mod})
	if(NOT PC_${var}_LIBDIR STREQUAL "${TF_STATIC_PREFIX}/lib")
		message(FATAL_ERROR "TF_STATIC: pkg-config found ${mod} in '${PC_${var}_LIBDIR}', "
			"not in ${TF_STATIC_PREFIX}/lib")
	endif()
	tf_static_module(${var})
endforeach()

# Every program of a TF_STATIC build is static: only common/, manifests/, mirror/, installer/
# and tests/static/ are configured. Unused sections are dropped (the libraries are built with
# -ffunction-sections too). musl's default thread stack is 128 KiB, too small for OpenSSL and
# libssh in a worker thread; the PT_GNU_STACK size raises musl's default to 1 MiB.
add_compile_options(-ffunction-sections -fdata-sections
	"-idirafter${TF_STATIC_PREFIX}/include-kernel")  # <linux/...>: musl-gcc has no kernel headers
add_link_options(-static -Wl,--gc-sections -Wl,-z,stack-size=1048576)

function(tf_static_check_targets)
	if(NOT TARGET tiferry)
		message(WARNING "TF_STATIC: installer/ defines no 'tiferry' target yet")
	endif()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL tf_static_check_targets)
