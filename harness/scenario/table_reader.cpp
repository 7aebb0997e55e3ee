#include "scenario/table_reader.h"

#include "common/duration.h"
#include "common/signals.h"

#include <fmt/format.h>

#include <algorithm>

namespace draincheck {
namespace {

std::string ascii_lower(std::string_view s) {
    std::string out;
    for (char c : s) out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The known key a misspelling most likely meant: a case-insensitive match, else the closest
// within two edits; empty if none is that close.
std::string_view closest_key(std::string_view key, const std::vector<std::string_view>& known) {
    std::string_view best;
    size_t best_distance = 3;
    for (std::string_view candidate : known) {
        size_t d = ascii_lower(key) == ascii_lower(candidate) ? 0 : edit_distance(key, candidate);
        if (d < best_distance) best_distance = d, best = candidate;
    }
    return best;
}

std::string join(const std::vector<std::string_view>& items) {
    std::string out;
    for (std::string_view s : items) (out += out.empty() ? "" : ", ") += s;
    return out;
}

std::string number_text(const toml::node& n) {
    return n.is_integer() ? std::to_string(*n.value<int64_t>()) : fmt::format("{}", *n.value<double>());
}

const toml::source_position& position_of(const toml::node& n) { return n.source().begin; }

}  // namespace

std::string describe_value(const toml::node& value) {
    switch (value.type()) {
    case toml::node_type::string: return "string \"" + std::string(*value.value<std::string_view>()) + "\"";
    case toml::node_type::integer: return "integer " + number_text(value);
    case toml::node_type::floating_point: return "float " + number_text(value);
    case toml::node_type::boolean: return std::string("boolean ") + (*value.value<bool>() ? "true" : "false");
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date/time";
    }
}

TableReader::TableReader(std::string file, const toml::table& table, std::string path,
                         std::vector<std::string_view> known_keys)
    : file_(std::move(file)), table_(table), path_(std::move(path)), known_(std::move(known_keys)) {
    reject_unknown_keys();
}

std::string TableReader::dotted(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void TableReader::fail_at(const toml::node& at, const std::string& message) const {
    auto where = position_of(at).line ? position_of(at) : position_of(table_);
    // The root table of an empty document has no position; its first line is the honest answer.
    int line = where.line ? int(where.line) : 1;
    int column = where.column ? int(where.column) : 1;
    throw ScenarioError(file_, line, column, message);
}

void TableReader::fail(std::string_view key, const std::string& message) const {
    const toml::node* value = get(key);
    fail_at(value ? *value : table_, dotted(key) + ": " + message);
}

void TableReader::require(std::string_view key, std::string_view what) const {
    if (!get(key)) fail_at(table_, dotted(key) + ": missing required " + std::string(what));
}

void TableReader::reject_unknown_keys() const {
    for (const auto& [k, value] : table_) {
        std::string_view key = k.str();
        if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
        std::string_view suggestion = closest_key(key, known_);
        std::string message = dotted(key) + ": unknown key; " +
                              (suggestion.empty() ? "expected one of: " + join(known_)
                                                  : "did you mean `" + std::string(suggestion) + "`?");
        const auto& where = k.source().begin.line ? k.source().begin : position_of(value);
        throw ScenarioError(file_, int(where.line), int(where.column), message);
    }
}

std::optional<std::string> TableReader::string(std::string_view key) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(key, "expected a string, got " + describe_value(*n));
    return std::string(*n->value<std::string_view>());
}

std::optional<std::string> TableReader::non_empty_string(std::string_view key) const {
    auto s = string(key);
    if (s && s->empty()) fail(key, "expected a non-empty string, got \"\"");
    return s;
}

std::optional<bool> TableReader::boolean(std::string_view key) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(key, "expected true or false, got " + describe_value(*n));
    return *n->value<bool>();
}

std::optional<int64_t> TableReader::integer(std::string_view key, int64_t min, int64_t max) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(key, "expected an integer, got " + describe_value(*n));
    int64_t v = *n->value<int64_t>();
    if (v < min || v > max) {
        std::string range = max == std::numeric_limits<int64_t>::max() ? fmt::format(">= {}", min)
                                                                         : fmt::format("from {} to {}", min, max);
        fail(key, "expected an integer " + range + ", got " + std::to_string(v));
    }
    return v;
}

std::optional<double> TableReader::number(std::string_view key, double min, bool exclusive_min, double max) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_number()) fail(key, "expected a number, got " + describe_value(*n));
    double v = n->is_integer() ? double(*n->value<int64_t>()) : *n->value<double>();
    bool above_min = exclusive_min ? v > min : v >= min;   // false for NaN
    if (!above_min || !(v <= max)) {
        // Name only the bound that was broken: "> 0" reads better than "> 0 and at most 1e+07".
        std::string range = !exclusive_min ? fmt::format("from {} to {}", min, max)
                            : above_min    ? fmt::format("at most {}", max)
                                           : fmt::format("> {}", min);
        fail(key, "expected a number " + range + ", got " + number_text(*n));
    }
    return v;
}

std::optional<Nanos> TableReader::duration(std::string_view key, bool allow_zero) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(key, "expected a duration string like \"10s\", got " + describe_value(*n));
    std::string text(*n->value<std::string_view>());
    if (!text.empty() && text.front() == '-') fail(key, "expected a duration >= 0, got \"" + text + "\"");
    auto d = parse_duration(text);
    if (!d) fail(key, "expected a duration like \"250ms\", \"10s\" or \"2m30s\" (units ns us ms s m h), got \"" + text + "\"");
    if (!allow_zero && d->count() == 0) fail(key, "expected a duration > 0, got \"" + text + "\"");
    return d;
}

std::optional<int> TableReader::signal(std::string_view key) const {
    auto name = string(key);
    if (!name) return std::nullopt;
    auto signo = signal_from_name(*name);
    if (!signo) {
        std::vector<std::string_view> names(supported_signal_names().begin(), supported_signal_names().end());
        fail(key, "expected a signal name (" + join(names) + "; with or without SIG, any case), got \"" + *name + "\"");
    }
    return signo;
}

std::optional<TableReader> TableReader::table(std::string_view key, std::vector<std::string_view> known_keys) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_table()) fail(key, "expected a table, got " + describe_value(*n));
    return TableReader(file_, *n->as_table(), dotted(key), std::move(known_keys));
}

const toml::table* TableReader::free_form_table(std::string_view key) const {
    const toml::node* n = get(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(key, "expected a table, got " + describe_value(*n));
    return n->as_table();
}

const toml::array* TableReader::array(std::string_view key) const {
    const toml::node* n = get(key);
    if (!n) return nullptr;
    if (!n->is_array()) fail(key, "expected an array, got " + describe_value(*n));
    return n->as_array();
}

std::vector<const toml::table*> TableReader::array_of_tables(std::string_view key) const {
    std::vector<const toml::table*> tables;
    const toml::node* n = get(key);
    if (!n) return tables;
    std::string header = "[[" + dotted(key) + "]]";
    if (!n->is_array()) fail(key, "expected " + header + " tables, got " + describe_value(*n));
    for (size_t i = 0; i < n->as_array()->size(); ++i) {
        const toml::node& entry = *n->as_array()->get(i);
        if (!entry.is_table())
            fail_at(entry, fmt::format("{}[{}]: expected a table like {}, got {}", dotted(key), i, header, describe_value(entry)));
        tables.push_back(entry.as_table());
    }
    return tables;
}

std::optional<std::vector<std::string>> TableReader::argv(std::string_view key, std::string_view example) const {
    const toml::array* list = array(key);
    if (!list) return std::nullopt;
    if (list->empty()) fail(key, "expected a non-empty array of strings (an argv, e.g. " + std::string(example) + "), got an empty array");
    std::vector<std::string> out;
    for (size_t i = 0; i < list->size(); ++i) {
        const toml::node& arg = *list->get(i);
        std::string where = dotted(key) + "[" + std::to_string(i) + "]";
        if (!arg.is_string()) fail_at(arg, where + ": expected a string, got " + describe_value(arg));
        out.emplace_back(*arg.value<std::string_view>());
    }
    if (out.front().empty()) fail_at(*list->get(0), dotted(key) + "[0]: expected a program, got \"\"");
    return out;
}

std::optional<std::map<std::string, std::string>> TableReader::env_table(std::string_view key) const {
    const toml::table* env = free_form_table(key);
    if (!env) return std::nullopt;
    std::map<std::string, std::string> out;
    for (const auto& [k, value] : *env) {
        std::string name(k.str());
        std::string where = dotted(key) + "." + name;
        if (name.empty() || name.find('=') != std::string::npos)
            fail_at(value, where + ": expected an environment variable name without \"=\", got \"" + name + "\"");
        if (value.is_string()) out[name] = *value.value<std::string>();
        else if (value.is_integer()) out[name] = std::to_string(*value.value<int64_t>());
        else fail_at(value, where + ": expected a string or an integer, got " + describe_value(value));
    }
    return out;
}

}  // namespace draincheck
