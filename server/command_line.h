#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reactord::server {

// Builds the argument list that gflags parses, so that a flag is checked the same way wherever it
// comes from:
//   1. FLAGS_<name>=VALUE environment variables (gflags' own naming), as --name=VALUE; a variable
//      that names no flag, or whose value the flag refuses, is an error naming the variable.
//      FLAGS_flagfile is expanded like --flagfile.
//   2. The command line, after them, so that it wins (gflags applies arguments in order).
// Every --flagfile (command line, environment, or nested in a flagfile) is replaced by the
// arguments it holds: one argument a line, surrounding blanks trimmed, blank lines and lines
// starting with '#' skipped. gflags' own flagfile reader skips flags it does not know; here an
// unknown flag, a line that is not a flag, a directory or an unreadable file is an error that
// names the file and line. Reads flagfiles; otherwise pure. Main-thread-only, like all start-up.
class CommandLine {
 public:
  // True when `name` (no dashes, no "=value") is a flag of the program.
  using IsFlag = std::function<bool(std::string_view name)>;
  // True when `value` is a valid value of flag `name` (parses, and passes its validator).
  using IsValid = std::function<bool(std::string_view name, std::string_view value)>;

  CommandLine(IsFlag is_flag, IsValid is_valid)
      : is_flag_(std::move(is_flag)), is_valid_(std::move(is_valid)) {}

  // `args` starts with the program name; `environment` holds NAME=VALUE entries. On error returns
  // nullopt with `error` set to one line that says what is wrong and where.
  std::optional<std::vector<std::string>> build(const std::vector<std::string>& args,
                                                const std::vector<std::string>& environment,
                                                std::string* error) const;

 private:
  // One argument and where it came from: empty for the command line, else "FILE:LINE" or the
  // environment variable.
  struct Argument {
    std::string text;
    std::string origin;
  };

  bool expand(const std::vector<Argument>& args, int depth, std::vector<std::string>* out,
              std::string* error) const;
  bool readFlagfile(const std::string& path, const std::string& origin, int depth,
                    std::vector<std::string>* out, std::string* error) const;
  // The flag an argument like --name=value, -name or --noname names, if it names one.
  bool namesFlag(std::string_view argument) const;

  IsFlag is_flag_;
  IsValid is_valid_;
};

}  // namespace reactord::server
