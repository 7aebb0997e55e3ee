#pragma once
// The process exit codes of `draincheck`, as documented in the README.
namespace draincheck::exit_code {

inline constexpr int pass = 0;          // every assertion held
inline constexpr int fail = 1;          // the verdict is FAIL
inline constexpr int invalid = 2;       // invalid scenario or usage
inline constexpr int environment = 3;   // the harness could not run the scenario
inline constexpr int interrupted_int = 130;   // aborted by SIGINT (Ctrl-C)
inline constexpr int interrupted_term = 143;  // aborted by SIGTERM

// For several scenarios in one call: the worst result wins.
inline int worst(int a, int b) {
    auto rank = [](int c) { return c == pass ? 0 : c == fail ? 1 : c == invalid ? 2 : c == environment ? 3 : 4; };
    return rank(a) >= rank(b) ? a : b;
}

}  // namespace draincheck::exit_code
