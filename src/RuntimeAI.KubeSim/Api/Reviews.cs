using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>
/// The review resources clients use to ask about themselves. The simulator does not authenticate or authorize,
/// so every access review is allowed and every caller is the same simulated administrator.
/// </summary>
internal static class Reviews
{
    public const string User = "kubesim-admin";

    public static JsonObject Answer(ResourceType type, JsonObject review)
    {
        review["apiVersion"] = type.ApiVersion;
        review["kind"] = type.Kind;
        review["metadata"] ??= new JsonObject();
        review["status"] = type.Resource switch
        {
            "selfsubjectaccessreviews" => new JsonObject
            {
                ["allowed"] = true,
                ["reason"] = "KubeSim, a Kubernetes API simulator, does not authorize: every request is allowed",
            },
            "selfsubjectrulesreviews" => new JsonObject
            {
                ["resourceRules"] = new JsonArray(new JsonObject
                {
                    ["verbs"] = new JsonArray("*"),
                    ["apiGroups"] = new JsonArray("*"),
                    ["resources"] = new JsonArray("*"),
                }),
                ["nonResourceRules"] = new JsonArray(new JsonObject { ["verbs"] = new JsonArray("*"), ["nonResourceURLs"] = new JsonArray("*") }),
                ["incomplete"] = false,
            },
            _ => new JsonObject
            {
                ["userInfo"] = new JsonObject
                {
                    ["username"] = User,
                    ["groups"] = new JsonArray("system:masters", "system:authenticated"),
                },
            },
        };
        return review;
    }
}
