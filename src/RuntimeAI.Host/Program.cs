using RuntimeAI.Host;

return await Cli.RunAsync(args);
