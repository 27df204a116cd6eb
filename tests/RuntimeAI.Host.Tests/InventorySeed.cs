using RuntimeAI.Core.Common;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>Puts runtimes into a data directory's store the way the server itself records them.</summary>
internal static class InventorySeed
{
    /// <summary>
    /// Adds <paramref name="count"/> runtimes of <paramref name="tenant"/>. A test that lists a tenant
    /// passes its own: the sandbox's domains are shared by every server in the test process, and a
    /// server imports the ones other tests left (with their tenants, e.g. "acme").
    /// </summary>
    public static async Task<IReadOnlyList<Runtime>> AddRuntimesAsync(string dataDir, int count, Func<int, IReadOnlyDictionary<string, string>>? labels = null, string tenant = "acme")
    {
        using var db = SqliteDatabase.Open(dataDir);
        var inventory = new SqliteRuntimeInventory(db);
        var ids = new IdGenerator(TimeProvider.System);
        var list = new List<Runtime>();
        for (var i = 0; i < count; i++)
        {
            var runtime = new Runtime
            {
                Id = ids.New("rt"),
                Name = $"vm-{i:D2}",
                Type = i % 3 == 2 ? RuntimeType.Vcluster : RuntimeType.Vm,
                State = i % 2 == 0 ? RuntimeState.Running : RuntimeState.Stopped,
                TenantId = tenant,
                Labels = labels?.Invoke(i) ?? new Dictionary<string, string> { ["env"] = i < 2 ? "prod" : "dev" },
                Spec = new RuntimeSpec { Size = "small" },
                CreatedAt = TimeProvider.System.GetUtcNow(),
            };
            await inventory.SaveRuntimeAsync(runtime, "seed", CancellationToken.None);
            list.Add(runtime);
            await Task.Delay(2);
        }

        return list;
    }
}
