using System.CommandLine;
using RuntimeAI.Core.Policies;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai policy test|validate</c>: lets a policy author check rules without a server.
/// Exit codes: 0 all good, 1 a test case failed, 2 a policy or test file has errors.
/// </summary>
internal static class PolicyCommand
{
    public static Command Create() => new("policy", "Check policy files without a server (see docs/policies.md).")
    {
        CreateTestCommand(),
        CreateValidateCommand(),
    };

    private static Command CreateTestCommand()
    {
        var tests = new Argument<string>("tests") { Description = "Directory of test files (cases of input and expected decision)." };
        var policies = new Option<string?>("--policies")
        {
            Description = "Directory of the policy files under test (default: RUNTIMEAI_POLICIES_DIR).",
        };
        var command = new Command("test", "Run policy test cases and print PASS/FAIL per case; exit 0 only if all pass.") { tests, policies };
        command.SetAction(parse =>
        {
            var policiesDir = parse.GetValue(policies) ?? NonEmpty(Environment.GetEnvironmentVariable("RUNTIMEAI_POLICIES_DIR"))
                ?? throw new CliException("no policies to test; pass --policies DIR (or set RUNTIMEAI_POLICIES_DIR)", 2);
            var testsDir = parse.GetValue(tests)!;
            RequireDirectory(testsDir, "tests");
            RequireDirectory(policiesDir, "--policies");
            var report = PolicyTestRunner.RunDirectory(testsDir, policiesDir);
            Console.Out.WriteLine(report.ToText());
            if (report.Passed)
            {
                return 0;
            }

            if (report.Results.Count == 0 && report.Errors.Count == 0)
            {
                Console.Error.WriteLine($"runtimeai: {testsDir} holds no test cases; add .yaml or .json files with 'cases'");
                return 2;
            }

            return report.Errors.Count > 0 ? 2 : 1;
        });
        return command;
    }

    private static Command CreateValidateCommand()
    {
        var dir = new Argument<string>("dir") { Description = "Directory of policy files (.yaml, .yml, .json)." };
        var command = new Command("validate", "Validate policy files and list every error (exit 2 when there is any).") { dir };
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(dir)!;
            RequireDirectory(directory, "dir");
            var result = PolicyLoader.LoadDirectory(directory);
            if (result.Ok)
            {
                Console.Out.WriteLine($"{result.Policies.Count} policies, {result.Policies.Sum(p => p.Rules.Count)} rules: OK");
                return 0;
            }

            foreach (var error in result.Errors)
            {
                Console.Out.WriteLine($"ERROR {error}");
            }

            Console.Error.WriteLine($"runtimeai: {result.Errors.Count} policy error{(result.Errors.Count == 1 ? "" : "s")} in {directory}");
            return 2;
        });
        return command;
    }

    private static void RequireDirectory(string path, string what)
    {
        if (!Directory.Exists(path))
        {
            throw new CliException($"{what} '{path}' is not a directory; pass a directory of .yaml/.json files", 2);
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
