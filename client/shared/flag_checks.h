#pragma once

#include <cstdint>
#include <string>

namespace reactord::client {

// gflags validators shared by reactor-client and reactor-bench (DEFINE_validator takes them). Each
// returns true when the value is usable, else prints "--flag must be ..." on stderr and returns
// false, and gflags exits 1 naming the flag. Called by gflags on the main thread.
bool validPort(const char* flag, int32_t value);
bool validPositive(const char* flag, int32_t value);
bool validThreads(const char* flag, int32_t value);
bool validSocketBuffer(const char* flag, int32_t value);
bool validMessageBytes(const char* flag, int32_t value);
bool validNonNegative(const char* flag, double value);
bool validProtocol(const char* flag, const std::string& value);
bool validProxyHeader(const char* flag, const std::string& value);
bool validProxySource(const char* flag, const std::string& value);

// For a program's own choice flags: returns `valid`, and when it is false prints
// "--flag must be <choices>, not '<value>'" on stderr.
bool validChoice(const char* flag, const std::string& value, bool valid, const char* choices);

}  // namespace reactord::client
