# Install rules: the SDK (library, extensions, headers, CMake package). In the wheel the install
# prefix is the `optima_v2` package folder, so the same layout appears under site-packages.
include(CMakePackageConfigHelpers)

set(OPTIMA_V2_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/OptimaV2-Runtime)

install(TARGETS OptimaV2Runtime EXPORT OptimaV2RuntimeTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/OptimaV2 DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT OptimaV2RuntimeTargets NAMESPACE OptimaV2:: DESTINATION ${OPTIMA_V2_CMAKE_DIR}
        FILE OptimaV2-RuntimeTargets.cmake)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/OptimaV2-RuntimeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/OptimaV2-RuntimeConfig.cmake INSTALL_DESTINATION ${OPTIMA_V2_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/OptimaV2-RuntimeConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/OptimaV2-RuntimeConfig.cmake
              ${PROJECT_BINARY_DIR}/OptimaV2-RuntimeConfigVersion.cmake
        DESTINATION ${OPTIMA_V2_CMAKE_DIR})
