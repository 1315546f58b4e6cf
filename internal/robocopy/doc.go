// Package robocopy owns everything robo knows about driving Microsoft's
// robocopy.exe:
//
//   - building the argument vector for one job ([BuildArgs], [Options]) and
//     vetting the user's escape-hatch switches ([ValidateExtraArgs]);
//   - interpreting the process exit code, a bitmask ([ExitCode]);
//   - parsing the job log robocopy writes ([Parse], [ParseBytes],
//     [ParseWith]) into a [Log] of [Job]s, and printing it ([Log.WriteText]);
//   - the robocopy engine ([Engine]), which implements engine.Engine: plans
//     through /L listings read back into robo's change model
//     ([ChangesFromJob]) and applies by running robocopy and reading its log
//     into a result ([ResultFromJob]).
//
// Besides internal/engine (the model every engine shares) it imports nothing
// from robo, only the standard library and golang.org/x/text. It contains no
// cgo and no build tags; argv building, exit codes and log parsing are pure
// string work whose tests run on every GOOS. Running robocopy.exe needs
// Windows: its conformance test runs there (the Windows CI workflow). Each
// argument is exec'd separately, never via a shell (see [BuildArgs]).
//
// # Log parsing
//
// robocopy's output is localized (labels follow the Windows display language,
// dates and number grouping the regional format) and encoded in the OEM code
// page unless /UNILOG is used. The parser therefore classifies lines by
// structure — the TAB-delimited columns of file and directory lines, the
// "label : value" / "label = value" header shape, the summary rows of six
// numeric fields, the locale-independent "N (0xXXXXXXXX)" part of error lines
// — and uses tables of localized words only where structure gives no answer
// (the normalized file class, and choosing among OEM code pages). A missing
// summary is reported as unknown (nil), never as zero.
//
// The reference material the parser was written against lives outside the
// repository (shared/robocopy/FORMAT.md, SEMANTICS.md and samples/); the
// golden tests read the samples from there and skip when they are absent.
package robocopy
