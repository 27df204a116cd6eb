using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>An API failure that is rendered as a Kubernetes <c>Status</c> body.</summary>
internal sealed class KubeApiException : Exception
{
    public KubeApiException(int code, string reason, string message, JsonObject? details = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
    }

    public KubeApiException()
    {
        Reason = "InternalError";
        Code = 500;
    }

    public KubeApiException(string message) : base(message)
    {
        Reason = "InternalError";
        Code = 500;
    }

    public KubeApiException(string message, Exception innerException) : base(message, innerException)
    {
        Reason = "InternalError";
        Code = 500;
    }

    public int Code { get; }

    public string Reason { get; }

    public JsonObject? Details { get; }

    public static KubeApiException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.GroupResource} \"{name}\" not found", DetailsFor(type, name));

    public static KubeApiException AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.GroupResource} \"{name}\" already exists", DetailsFor(type, name));

    public static KubeApiException Conflict(ResourceType type, string name) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {type.GroupResource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            DetailsFor(type, name));

    public static KubeApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static KubeApiException Invalid(ResourceType type, string name, string message)
    {
        var details = DetailsFor(type, name);
        details["causes"] = new JsonArray(new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = message });
        return new(422, "Invalid", $"{type.Kind} \"{name}\" is invalid: {message}", details);
    }

    public static KubeApiException Gone(string message) => new(410, "Expired", message);

    public static KubeApiException MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    private static JsonObject DetailsFor(ResourceType type, string name) => new()
    {
        ["name"] = name,
        ["group"] = type.Group,
        ["kind"] = type.Resource,
    };

    public JsonObject ToStatus() => StatusBody(Code, Reason, Message, Details);

    public static JsonObject StatusBody(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = code < 400 ? "Success" : "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (details is not null)
        {
            status["details"] = details.DeepClone();
        }

        return status;
    }
}
