using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using RuntimeAI.Mcp.Tools;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host;

/// <summary>
/// The <c>runtimeai</c> command line. Exit codes: 0 success, 1 the operation failed (a tool
/// returned an error, drift found), 2 bad usage or configuration. Errors are one line on stderr
/// that names the problem and the fix — never a stack trace.
/// </summary>
internal static class Cli
{
    public static Task<int> RunAsync(string[] args) => RunAsync(args, null);

    /// <summary>
    /// Runs the command line with extra MCP primitives added to <c>serve</c> (the conformance fixture
    /// in tests/ adds the suite's diagnostic tools this way; the shipped binary adds none).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, Action<Microsoft.Extensions.DependencyInjection.IMcpServerBuilder>? extendServer)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args is ["--version"])
        {
            // The parser's own --version prints only the informational version; this says which build it is.
            await Console.Out.WriteLineAsync(BuildInfo.Describe());
            return 0;
        }

        var root = new RootCommand("RuntimeAI: an MCP server that lets AI agents operate VMs and virtual clusters safely.");
        root.Subcommands.Add(ServeCommand.Create(extendServer));
        root.Subcommands.Add(CreateToolsCommand());
        root.Subcommands.Add(CreateCallCommand());
        root.Subcommands.Add(CreateCatalogCommand());
        root.Subcommands.Add(KubeSimCommand.Create());
        foreach (var command in ProposalCommand.Create())
        {
            root.Subcommands.Add(command);
        }
        root.Subcommands.Add(AuditCommand.Create());
        root.Subcommands.Add(BackupCommand.Create());
        root.Subcommands.Add(PolicyCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(StoreCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(BundleCommand.Create());

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var command = string.Join(' ', parse.CommandResult.Command.Name == root.Name ? [] : new[] { parse.CommandResult.Command.Name });
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"runtimeai: {error.Message.TrimEnd('.')}; run 'runtimeai {command} --help'".Replace("  ", " ", StringComparison.Ordinal));
            }

            return 2;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync($"runtimeai: {ex.Message}");
            return ex.ExitCode;
        }
        catch (StoreException ex)
        {
            await Console.Error.WriteLineAsync($"runtimeai: {ex.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"runtimeai: unexpected error: {ex.Message}; rerun with --log-level debug for details");
            return 1;
        }
    }

    internal static Option<string?> DataDirOption() => new("--data-dir")
    {
        Description = "Directory of the store (default: $XDG_DATA_HOME/runtimeai or ~/.local/share/runtimeai).",
    };

    internal static Option<string?> ConfigOption() => new("--config") { Description = "JSON config file (defaults < file < RUNTIMEAI_* env < flags)." };

    internal static Option<string?> AutonomyOption() => new("--autonomy")
    {
        Description = "advisor (default): observe/analyse/recommend only; copilot, guardian, autonomous: see README.",
    };

    internal static Option<string?> PoliciesOption() => new("--policies")
    {
        Description = "Directory of policy files (YAML/JSON), validated at start; stored policies apply too.",
    };

    internal static Option<string?> ApiKeyOption() => new("--api-key")
    {
        Description = "Act as this API key's principal instead of human:<you> (default: $RUNTIMEAI_API_KEY).",
    };

    /// <summary>The key given with --api-key or RUNTIMEAI_API_KEY, if any.</summary>
    internal static string? ApiKey(string? flag) =>
        flag ?? (Environment.GetEnvironmentVariable("RUNTIMEAI_API_KEY") is { Length: > 0 } fromEnv ? fromEnv : null);

    internal static Option<bool> SandboxOption() => new("--sandbox") { Description = "Use the embedded sandbox backends instead of real infrastructure." };

    internal static Option<string[]> KubeconfigOption() => new("--kubeconfig")
    {
        Description = "kubeconfig of a Kubernetes cluster for vclusters and KubeVirt VMs (repeatable: one backend per cluster).",
        AllowMultipleArgumentsPerToken = false,
    };

    internal static Option<string[]> ContextOption() => new("--context")
    {
        Description = "kubeconfig context (repeatable: the i-th goes with the i-th --kubeconfig; several with one --kubeconfig give one backend per context).",
        AllowMultipleArgumentsPerToken = false,
    };

    internal static Option<string[]> LibvirtOption() => new("--libvirt")
    {
        Description = "libvirt connection URI (repeatable), e.g. qemu:///system or test:///default.",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Loads the layered config for a command; bad config is exit code 2 with every error listed.</summary>
    internal static RuntimeAI.Mcp.Hosting.RuntimeAiServerOptions LoadOptions(ServerConfig.Flags flags)
    {
        var environment = Environment.GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
        var config = ServerConfig.Load(flags, environment);
        if (config.Errors.Count > 0)
        {
            throw new CliException(config.Errors.Count == 1
                ? config.Errors[0]
                : $"{config.Errors.Count} configuration errors:\n  " + string.Join("\n  ", config.Errors), 2);
        }

        return config.Options;
    }

    private static Command CreateToolsCommand()
    {
        var json = new Option<bool>("--json") { Description = "Print the tools/list result as JSON." };
        var dataDir = DataDirOption();
        var config = ConfigOption();
        var autonomy = AutonomyOption();
        var list = new Command("list", "List the tools this server offers at the configured autonomy level.") { json, dataDir, config, autonomy };
        list.SetAction(async (parse, ct) =>
        {
            var options = LoadOptions(new ServerConfig.Flags
            {
                DataDir = parse.GetValue(dataDir), ConfigFile = parse.GetValue(config), Autonomy = parse.GetValue(autonomy),
            });
            await using var session = await InProcessSession.StartAsync(options, ct);
            var tools = await session.Client.ListToolsAsync(cancellationToken: ct);
            if (parse.GetValue(json))
            {
                var array = new JsonArray(tools.Select(t => JsonSerializer.SerializeToNode(t.ProtocolTool, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Tool)))).ToArray());
                Console.Out.WriteLine(Json.Indented(Json.ToElement(new JsonObject { ["tools"] = array })));
                return 0;
            }

            foreach (var tool in tools)
            {
                var tier = ToolCatalog.Find(tool.Name)?.Tier.ToString().ToLowerInvariant() ?? "?";
                Console.Out.WriteLine($"{tool.Name,-22} {tier,-9} {tool.ProtocolTool.Title}");
            }

            return 0;
        });
        return new Command("tools", "Inspect the tool catalog.") { list };
    }

    private static Command CreateCallCommand()
    {
        var toolName = new Argument<string>("tool") { Description = "Tool name, e.g. list_runtimes." };
        var argsOption = new Option<string>("--args") { Description = "Tool arguments as a JSON object.", DefaultValueFactory = _ => "{}" };
        var reasoning = new Option<string?>("--reasoning") { Description = "Why this call is made (kept in the audit trail)." };
        var dataDir = DataDirOption();
        var config = ConfigOption();
        var autonomy = AutonomyOption();
        var sandbox = SandboxOption();
        var libvirt = LibvirtOption();
        var kubeconfig = KubeconfigOption();
        var context = ContextOption();
        var policies = PoliciesOption();
        var apiKey = ApiKeyOption();
        var call = new Command("call", "Run one tool through the full pipeline in-process and print its structured result as JSON; exits 1 when the result is an error.")
        {
            toolName, argsOption, reasoning, dataDir, config, autonomy, sandbox, libvirt, kubeconfig, context, policies, apiKey,
        };
        call.SetAction(async (parse, ct) =>
        {
            var options = LoadOptions(new ServerConfig.Flags
            {
                DataDir = parse.GetValue(dataDir), ConfigFile = parse.GetValue(config), Autonomy = parse.GetValue(autonomy),
                Sandbox = parse.GetValue(sandbox) ? true : null, Libvirt = parse.GetValue(libvirt) ?? [], Kubeconfig = parse.GetValue(kubeconfig) ?? [], Context = parse.GetValue(context) ?? [],
                PoliciesDir = parse.GetValue(policies),
            });
            Dictionary<string, JsonElement> arguments;
            try
            {
                var node = JsonNode.Parse(parse.GetValue(argsOption)!);
                if (node is not JsonObject obj)
                {
                    throw new CliException("--args must be a JSON object, e.g. --args '{\"page_size\": 10}'", 2);
                }

                arguments = obj.ToDictionary(p => p.Key, p => Json.ToElement(p.Value));
            }
            catch (JsonException ex)
            {
                throw new CliException($"--args is not valid JSON ({ex.Message.Split('.')[0]}); pass an object such as '{{\"runtime_id\": \"rt_…\"}}'", 2);
            }

            if (ApiKey(parse.GetValue(apiKey)) is { } key)
            {
                options.LocalPrincipal = await KeysCommand.AuthenticateAsync(options, key, ct);
            }

            var meta = parse.GetValue(reasoning) is { } r ? new JsonObject { ["io.runtimeai/reasoning"] = r } : null;
            await using var session = await InProcessSession.StartAsync(options, ct);
            CallToolResult result;
            try
            {
                result = await session.Client.CallToolAsync(new CallToolRequestParams
                {
                    Name = parse.GetValue(toolName)!,
                    Arguments = arguments,
                    Meta = meta,
                }, ct);
            }
            catch (McpProtocolException ex)
            {
                throw new CliException(ex.Message.Replace("Request failed (remote): ", string.Empty, StringComparison.Ordinal), 2);
            }

            var output = result.StructuredContent is { } structured
                ? Json.Indented(structured)
                : string.Join('\n', result.Content.OfType<TextContentBlock>().Select(t => t.Text));
            Console.Out.WriteLine(output);
            if (result.IsError == true)
            {
                await Console.Error.WriteLineAsync("runtimeai: " + string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text)));
                return 1;
            }

            return 0;
        });
        return call;
    }

    private static Command CreateCatalogCommand()
    {
        var dir = new Option<string>("--dir") { Description = "Catalog directory.", DefaultValueFactory = _ => "tools-catalog" };
        var skills = new Option<string?>("--skills") { Description = "Instead, write the catalog as an agent skill to DIR/runtimeai/ (SKILL.md, schemas/) and as an OCI image layout to DIR/oci/." };
        var export = new Command("export", "Write tools-catalog/<tool>.json and index.json from the code.") { dir, skills };
        export.SetAction(parse =>
        {
            if (parse.GetValue(skills) is { } skillsDir)
            {
                return SkillsExport(skillsDir);
            }

            var count = CatalogExporter.Export(parse.GetValue(dir)!);
            Console.Error.WriteLine($"runtimeai: wrote {count} files to {parse.GetValue(dir)}");
            return 0;
        });
        var checkDir = new Option<string>("--dir") { Description = "Catalog directory.", DefaultValueFactory = _ => "tools-catalog" };
        var check = new Command("check", "Fail (exit 1) when the committed catalog differs from the code.") { checkDir };
        check.SetAction(parse =>
        {
            var problems = CatalogExporter.Check(parse.GetValue(checkDir)!);
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"runtimeai: catalog drift: {problem}");
            }

            if (problems.Count > 0)
            {
                Console.Error.WriteLine("runtimeai: run 'runtimeai catalog export' and commit tools-catalog/ with the code change");
                return 1;
            }

            Console.Error.WriteLine("runtimeai: catalog matches the code");
            return 0;
        });
        return new Command("catalog", "Export or check the tool catalog (the action contract).") { export, check };
    }

    private static int SkillsExport(string directory)
    {
        RuntimeAI.Mcp.Skills.SkillPackage.Exported exported;
        try
        {
            exported = RuntimeAI.Mcp.Skills.SkillPackage.Export(directory, BuildInfo.Version);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write the skill to {directory}: {ex.Message}", 2);
        }

        Console.Error.WriteLine($"runtimeai: wrote the skill ({exported.FileCount} files) to {exported.SkillDirectory}");
        Console.Error.WriteLine($"runtimeai: wrote the OCI image layout to {exported.LayoutDirectory} (tag {BuildInfo.Version}, manifest {exported.Layout.ManifestDigest})");
        Console.Error.WriteLine($"runtimeai: push it with: oras copy --from-oci-layout {exported.LayoutDirectory}:{BuildInfo.Version} REGISTRY/runtimeai-skill:{BuildInfo.Version}");
        return 0;
    }
}

/// <summary>AOT-safe JSON conversions for console output.</summary>
internal static class Json
{
    public static JsonElement ToElement(JsonNode? node)
    {
        using var document = JsonDocument.Parse(node?.ToJsonString() ?? "null");
        return document.RootElement.Clone();
    }

    public static string Indented(JsonElement element)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            element.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}

/// <summary>An error for the user: printed as one line, with an exit code.</summary>
internal sealed class CliException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
