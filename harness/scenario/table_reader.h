#pragma once
// Checked reading of one TOML table of a scenario. Every getter validates the type and range of
// its value and throws ScenarioError at the value's position, naming the dotted key, what was
// expected and what was found. Unknown keys are rejected as soon as the reader is made, so a
// misspelled required key is reported as a misspelling ("did you mean") rather than as missing.
#include "scenario/scenario_parser.h"

#include <toml++/toml.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

// How a value found in the file is named in messages: `integer 10`, `string "x"`, `a table`.
std::string describe_value(const toml::node& value);

class TableReader {
public:
    // `path` is the table's dotted name ("" for the root, "load.mix[0]"); `known_keys` is every
    // key the table may hold, in the order they are listed when no suggestion is close enough.
    TableReader(std::string file, const toml::table& table, std::string path, std::vector<std::string_view> known_keys);

    const std::string& file() const { return file_; }
    const toml::table& table() const { return table_; }
    std::string dotted(std::string_view key) const;
    const toml::node* get(std::string_view key) const { return table_.get(key); }

    // Throws `message` as is, at the node's position (the table's own position if it has none).
    [[noreturn]] void fail_at(const toml::node& at, const std::string& message) const;
    // Throws "<dotted key>: message" at the key's value, or at the table when the key is absent.
    [[noreturn]] void fail(std::string_view key, const std::string& message) const;
    // "<dotted key>: missing required <what>", at the table's header.
    void require(std::string_view key, std::string_view what) const;

    std::optional<std::string> string(std::string_view key) const;
    std::optional<std::string> non_empty_string(std::string_view key) const;
    std::optional<bool> boolean(std::string_view key) const;
    std::optional<int64_t> integer(std::string_view key, int64_t min,
                                   int64_t max = std::numeric_limits<int64_t>::max()) const;
    // A number (integer or float) > min (`exclusive_min`) or >= min, and <= max; NaN never fits.
    std::optional<double> number(std::string_view key, double min, bool exclusive_min, double max) const;
    // A duration string; zero only when `allow_zero`.
    std::optional<Nanos> duration(std::string_view key, bool allow_zero) const;
    // A signal name as signal_from_name accepts it.
    std::optional<int> signal(std::string_view key) const;
    // A sub-table with its own known keys; nullopt if the key is absent.
    std::optional<TableReader> table(std::string_view key, std::vector<std::string_view> known_keys) const;
    // A table whose keys the user chooses (env, headers), so none is unknown; nullptr if absent.
    const toml::table* free_form_table(std::string_view key) const;
    // `env = { NAME = "value" | 123 }`: names without "=", values strings or integers.
    std::optional<std::map<std::string, std::string>> env_table(std::string_view key) const;
    const toml::array* array(std::string_view key) const;
    // A non-empty array of strings whose first entry (the program) is not empty.
    std::optional<std::vector<std::string>> argv(std::string_view key, std::string_view example) const;
    // `[[key]]`: an array whose entries are all tables.
    std::vector<const toml::table*> array_of_tables(std::string_view key) const;

private:
    void reject_unknown_keys() const;

    std::string file_;
    const toml::table& table_;
    std::string path_;
    std::vector<std::string_view> known_;
};

}  // namespace draincheck
