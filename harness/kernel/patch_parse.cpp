#include "kernel/patch_parse.h"

#include <algorithm>
#include <fmt/format.h>
#include <regex>
#include <sstream>

namespace numasoak::kernel {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    start = nl + 1;
  }
  return out;
}

// "a/mm/mprotect.c\t2023-01-01 ..." -> "mm/mprotect.c"; "/dev/null" -> "".
std::string strip_p1(std::string_view name) {
  if (auto tab = name.find('\t'); tab != std::string_view::npos) name = name.substr(0, tab);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  if (name == "/dev/null") return {};
  auto slash = name.find('/');
  if (slash == std::string_view::npos) return {};
  return std::string(name.substr(slash + 1));
}

}  // namespace

std::vector<std::string> touched_files(std::string_view patch_text) {
  std::vector<std::string> out;
  auto add = [&out](std::string p) {
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  };
  auto lines = split_lines(patch_text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (l.rfind("--- ", 0) == 0 && i + 1 < lines.size() && lines[i + 1].rfind("+++ ", 0) == 0) {
      add(strip_p1(l.substr(4)));
      add(strip_p1(lines[i + 1].substr(4)));
      ++i;
    } else if (l.rfind("rename from ", 0) == 0) {
      add(std::string(l.substr(12)));
    } else if (l.rfind("rename to ", 0) == 0) {
      add(std::string(l.substr(10)));
    } else if (l.rfind("copy to ", 0) == 0) {
      add(std::string(l.substr(8)));
    } else if (l.rfind("diff --git ", 0) == 0) {
      // "diff --git a/x b/y": covers mode-only and binary changes too.
      std::string_view rest = l.substr(11);
      auto sp = rest.find(" b/");
      if (sp != std::string_view::npos) {
        add(strip_p1(rest.substr(0, sp)));
        add(strip_p1(rest.substr(sp + 1)));
      }
    }
  }
  return out;
}

std::string describe_patch_failure(std::string_view output) {
  static const std::regex hunk(R"(^Hunk #(\d+) FAILED at (\d+))");
  static const std::regex patching(R"(^(?:patching|checking) file (.+)$)");
  static const std::regex malformed(R"(malformed patch at line (\d+))");
  std::vector<std::string> problems;
  std::string current;
  std::string leading_file;  // "|+++ b/x" quoted after "can't find file to patch"
  bool missing = false;
  auto report_missing = [&] {
    problems.push_back(leading_file.empty() ? std::string("can't find a file to patch")
                                            : fmt::format("can't find file to patch: {}", leading_file));
    missing = false;
  };
  for (std::string_view lv : split_lines(output)) {
    const std::string l(lv);
    std::smatch m;
    if (std::regex_search(l, m, patching)) {
      current = m[1];
      if (current.size() > 1 && current.front() == '\'' && current.back() == '\'') current = current.substr(1, current.size() - 2);
    } else if (std::regex_search(l, m, hunk)) {
      problems.push_back(fmt::format("{}: hunk #{} FAILED at line {}", current.empty() ? "?" : current, m[1].str(), m[2].str()));
    } else if (l.rfind("|+++ ", 0) == 0 || l.rfind("|--- ", 0) == 0) {
      if (auto f = strip_p1(std::string_view(l).substr(5)); !f.empty()) leading_file = f;
    } else if (l.find("can't find file to patch") != std::string::npos) {
      missing = true;  // the headers naming the file follow, quoted with '|'
      leading_file.clear();
    } else if (missing && l.find("No file to patch") != std::string::npos) {
      report_missing();
    } else if (std::regex_search(l, m, malformed)) {
      problems.push_back(fmt::format("patch is malformed at line {}", m[1].str()));
    } else if (l.find("Reversed (or previously applied) patch detected") != std::string::npos) {
      problems.push_back(fmt::format("{}: reversed or previously applied", current.empty() ? "?" : current));
    } else if (l.find("Only garbage was found in the patch input") != std::string::npos) {
      problems.push_back("no diff found in the file");
    }
  }
  if (missing) report_missing();
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

}  // namespace numasoak::kernel
