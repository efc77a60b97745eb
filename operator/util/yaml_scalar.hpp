// Internal to yaml_read.cpp: how one YAML scalar becomes a JSON value (the YAML 1.2
// core schema; see yaml_read.hpp). Pure functions of the scalar's text and tag.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cpo::util::yaml_detail {

inline constexpr std::string_view kTagStr = "tag:yaml.org,2002:str";
inline constexpr std::string_view kTagInt = "tag:yaml.org,2002:int";
inline constexpr std::string_view kTagFloat = "tag:yaml.org,2002:float";
inline constexpr std::string_view kTagBool = "tag:yaml.org,2002:bool";
inline constexpr std::string_view kTagNull = "tag:yaml.org,2002:null";
inline constexpr std::string_view kTagMap = "tag:yaml.org,2002:map";
inline constexpr std::string_view kTagSeq = "tag:yaml.org,2002:seq";

// The value of a scalar: `plain` is an unquoted, untagged scalar (resolved by its
// spelling); `tag` is the resolved tag ("" for none, "!" for the non-specific one).
// nullopt with `error` set when the tag cannot apply to the text.
template <class J>
std::optional<J> scalar_value(std::string_view text, std::string_view tag, bool plain,
                              std::string* error);

}  // namespace cpo::util::yaml_detail
