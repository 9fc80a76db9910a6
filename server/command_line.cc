#include "server/command_line.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace reactord::server {
namespace {

constexpr std::string_view kEnvironmentPrefix = "FLAGS_";
constexpr std::string_view kFlagfile = "flagfile";
// Flagfiles that name flagfiles: deep enough for any layout, short of a loop.
constexpr int kMaxFlagfileDepth = 8;

std::string_view trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) {
    return {};
  }
  const size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

// "--name=value" -> "name", "-name" -> "name"; empty for a non-flag or for "--".
std::string_view flagName(std::string_view argument) {
  if (argument.size() < 2 || argument[0] != '-') {
    return {};
  }
  argument.remove_prefix(argument[1] == '-' ? 2 : 1);
  return argument.substr(0, argument.find('='));
}

// The path of "--flagfile=PATH" (nullopt if `argument` is something else).
std::optional<std::string> flagfileValue(std::string_view argument) {
  if (flagName(argument) != kFlagfile) {
    return std::nullopt;
  }
  const size_t equals = argument.find('=');
  return std::string(equals == std::string_view::npos ? "" : argument.substr(equals + 1));
}

std::string where(const std::string& origin) { return origin.empty() ? "" : origin + ": "; }

}  // namespace

std::optional<std::vector<std::string>> CommandLine::build(
    const std::vector<std::string>& args, const std::vector<std::string>& environment,
    std::string* error) const {
  std::vector<std::string> out;
  out.push_back(args.empty() ? std::string("reactord") : args[0]);
  std::vector<Argument> from_environment;
  for (const std::string& entry : environment) {
    if (entry.compare(0, kEnvironmentPrefix.size(), kEnvironmentPrefix) != 0) {
      continue;
    }
    const size_t equals = entry.find('=');
    const std::string name =
        entry.substr(kEnvironmentPrefix.size(), equals - kEnvironmentPrefix.size());
    const std::string variable = entry.substr(0, equals);
    if (!is_flag_(name)) {
      *error = "environment variable " + variable + " names no flag (a flag --NAME is set by " +
               "FLAGS_NAME, with the flag's exact name; see --help)";
      return std::nullopt;
    }
    const std::string value = equals == std::string::npos ? "" : entry.substr(equals + 1);
    if (name != kFlagfile && !is_valid_(name, value)) {
      *error = "environment variable " + variable + "=" + value + ": not a valid value of --" +
               name + " (see --help)";
      return std::nullopt;
    }
    Argument argument{"--" + name + "=" + value, "environment variable " + variable};
    // A flagfile from the environment comes first, so that a FLAGS_<name> beside it wins.
    if (name == kFlagfile) {
      from_environment.insert(from_environment.begin(), std::move(argument));
    } else {
      from_environment.push_back(std::move(argument));
    }
  }
  if (!expand(from_environment, 0, &out, error)) {
    return std::nullopt;
  }
  std::vector<Argument> from_command_line;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string text = args[i];
    // gflags also takes "--flagfile PATH" as two arguments.
    if ((text == "--flagfile" || text == "-flagfile") && i + 1 < args.size()) {
      text += "=" + args[++i];
    }
    from_command_line.push_back({std::move(text), ""});
  }
  if (!expand(from_command_line, 0, &out, error)) {
    return std::nullopt;
  }
  return out;
}

bool CommandLine::expand(const std::vector<Argument>& args, int depth,
                         std::vector<std::string>* out, std::string* error) const {
  for (size_t i = 0; i < args.size(); ++i) {
    const Argument& argument = args[i];
    if (argument.text == "--" && argument.origin.empty()) {
      for (; i < args.size(); ++i) {  // the end of the flags: the rest is left as it is
        out->push_back(args[i].text);
      }
      return true;
    }
    if (const auto path = flagfileValue(argument.text)) {
      if (path->empty()) {
        *error = where(argument.origin) + "--flagfile needs a file name";
        return false;
      }
      if (!readFlagfile(*path, argument.origin, depth + 1, out, error)) {
        return false;
      }
      continue;
    }
    out->push_back(argument.text);
  }
  return true;
}

bool CommandLine::readFlagfile(const std::string& path, const std::string& origin, int depth,
                               std::vector<std::string>* out, std::string* error) const {
  const std::string named = where(origin) + "--flagfile=" + path;
  if (depth > kMaxFlagfileDepth) {
    *error = named + ": flagfiles nested more than " + std::to_string(kMaxFlagfileDepth) +
             " deep (does one name itself?)";
    return false;
  }
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    *error = named + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(info.st_mode)) {
    *error = named + ": not a regular file";
    return false;
  }
  std::ifstream file(path);
  if (!file) {
    *error = named + ": cannot be read: " + std::strerror(errno);
    return false;
  }
  std::vector<Argument> lines;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    const std::string_view text = trim(line);
    if (text.empty() || text[0] == '#') {
      continue;
    }
    const std::string at = path + ":" + std::to_string(number);
    if (text[0] != '-' || text == "-" || text == "--") {
      *error = at + ": '" + std::string(text) +
               "' is not a flag (a flagfile holds one --name=value a line)";
      return false;
    }
    if (!flagfileValue(text) && !namesFlag(text)) {
      *error = at + ": unknown flag '" + std::string(text) + "' (see --help)";
      return false;
    }
    lines.push_back({std::string(text), at});
  }
  if (file.bad()) {
    *error = named + ": read error: " + std::strerror(errno);
    return false;
  }
  return expand(lines, depth, out, error);
}

bool CommandLine::namesFlag(std::string_view argument) const {
  const std::string_view name = flagName(argument);
  if (name.empty()) {
    return false;
  }
  if (is_flag_(name)) {
    return true;
  }
  // --nofoo turns a boolean off; gflags itself rejects it for a flag that is not boolean.
  return name.substr(0, 2) == "no" && argument.find('=') == std::string_view::npos &&
         is_flag_(name.substr(2));
}

}  // namespace reactord::server
