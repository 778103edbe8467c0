// Paths named by an untrusted model folder: they must stay inside it.
#pragma once

#include <filesystem>
#include <string>

namespace optima_v2::runtime::detail {

// Returns the canonical form of Root / Relative, or throws InvalidModelException
// "<Field>: <why>" when Relative is empty, absolute, contains "..", or resolves (following
// symlinks) outside Root. Root must be canonical.
std::filesystem::path resolveInside(const std::filesystem::path &Root, const std::string &Relative,
                                    const std::string &Field);

// True when Path equals Root or lies below it (both canonical).
bool isInside(const std::filesystem::path &Root, const std::filesystem::path &Path);

// Reads a regular file of at most MaxBytes. Errors name File (relative, for messages) and are
// InvalidModelException.
std::string readBoundedFile(const std::filesystem::path &Path, const std::string &File, uint64_t MaxBytes);

} // namespace optima_v2::runtime::detail
