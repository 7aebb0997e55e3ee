#include "resp.h"

#include <charconv>

namespace sample {

namespace {

constexpr long long kMaxBulkLength = 512LL * 1024 * 1024;   // Redis' own limit for a string

bool parse_integer(std::string_view text, long long& value) {
    if (text.empty()) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string encode_command(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) {
        out += "$" + std::to_string(a.size()) + "\r\n";
        out += a;
        out += "\r\n";
    }
    return out;
}

ParseStatus parse_reply(std::string_view input, RedisReply& out, size_t& consumed) {
    size_t eol = input.find("\r\n");
    if (eol == std::string_view::npos) return ParseStatus::incomplete;
    if (eol == 0) return ParseStatus::invalid;
    char type = input[0];
    std::string_view line = input.substr(1, eol - 1);
    size_t after_line = eol + 2;

    switch (type) {
    case '+':
    case '-':
        out = {};
        out.type = type == '+' ? RedisReply::Type::simple_string : RedisReply::Type::error;
        out.text = std::string(line);
        consumed = after_line;
        return ParseStatus::complete;
    case ':':
        out = {};
        out.type = RedisReply::Type::integer;
        if (!parse_integer(line, out.integer)) return ParseStatus::invalid;
        consumed = after_line;
        return ParseStatus::complete;
    case '$':
    case '*': {
        long long length = 0;
        if (!parse_integer(line, length)) return ParseStatus::invalid;
        if (length == -1) {   // "$-1" nil bulk string, "*-1" nil array
            out = {};
            consumed = after_line;
            return ParseStatus::complete;
        }
        if (type == '*' || length < 0 || length > kMaxBulkLength) return ParseStatus::invalid;
        size_t end = after_line + size_t(length);
        if (input.size() < end + 2) return ParseStatus::incomplete;
        if (input.substr(end, 2) != "\r\n") return ParseStatus::invalid;
        out = {};
        out.type = RedisReply::Type::bulk_string;
        out.text = std::string(input.substr(after_line, size_t(length)));
        consumed = end + 2;
        return ParseStatus::complete;
    }
    default:
        return ParseStatus::invalid;
    }
}

}  // namespace sample
