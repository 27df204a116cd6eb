using System.Text.Json.Nodes;
using RuntimeAI.Core.Audit;

namespace RuntimeAI.Core.Tests.Audit;

public sealed class SecretRedactorTests
{
    private const string Jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFnZW50In0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    private const string Pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aumN\nplanted-secret-body\n-----END RSA PRIVATE KEY-----";

    [Theory]
    [InlineData("password", true)]
    [InlineData("db_password", true)]
    [InlineData("Password", true)]
    [InlineData("token", true)]
    [InlineData("access_token", true)]
    [InlineData("client_secret", true)]
    [InlineData("apiKey", true)]
    [InlineData("x-api-key", true)]
    [InlineData("APIKey", true)]
    [InlineData("ssh_key", true)]
    [InlineData("privateKey", true)]
    [InlineData("client-key-data", true)]
    [InlineData("kubeconfig", true)]
    [InlineData("Authorization", true)]
    [InlineData("aws_secret_access_key", true)]
    [InlineData("credentials", true)]
    [InlineData("idempotency_key", false)]
    [InlineData("page_token", false)]
    [InlineData("next_page_token", false)]
    [InlineData("public_key", false)]
    [InlineData("runtime_id", false)]
    [InlineData("monkey", false)]
    [InlineData("tokenizer_model", false)]
    [InlineData("keyboard", false)]
    public void IsSecretName(string name, bool secret) => Assert.Equal(secret, SecretRedactor.IsSecretName(name));

    [Fact]
    public void Redact_PlantedSecrets_NoneSurvive_AndTheRestIsKept()
    {
        var planted = new[] { "hunter2-planted", "s3cr3t-planted", "tok-planted-123", "LS0tLS1CRUdJTi-planted", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "planted-secret-body", "pa55-in-url", "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB" };
        var args = JsonNode.Parse($$"""
            {
              "runtime_id": "rt_1",
              "idempotency_key": "idem-1",
              "page_token": "p2",
              "password": "hunter2-planted",
              "nested": { "db": { "clientSecret": "s3cr3t-planted", "port": 5432 } },
              "headers": [ { "Authorization": "Bearer tok-planted-123" }, { "accept": "json" } ],
              "kubeconfig": { "users": [ { "user": { "client-key-data": "LS0tLS1CRUdJTi-planted" } } ] },
              "note": "called with {{Jwt}} by the agent",
              "cert": "{{Pem.Replace("\n", "\\n", StringComparison.Ordinal)}}",
              "url": "postgres://admin:pa55-in-url@db.internal:5432/app",
              "log": "pushed with ghp_abcdefghijklmnopqrstuvwxyz0123456789AB ok",
              "token": 12345,
              "secret": { "any": "shape" }
            }
            """)!.AsObject();
        var original = args.ToJsonString();

        var redacted = SecretRedactor.Redact(args)!;
        var text = redacted.ToJsonString();

        foreach (var secret in planted)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        Assert.Equal(original, args.ToJsonString()); // input untouched
        Assert.Equal("rt_1", (string?)redacted["runtime_id"]);
        Assert.Equal("idem-1", (string?)redacted["idempotency_key"]);
        Assert.Equal("p2", (string?)redacted["page_token"]);
        Assert.Equal(5432, (int)redacted["nested"]!["db"]!["port"]!);
        Assert.Equal("json", (string?)redacted["headers"]![1]!["accept"]);
        Assert.Equal(SecretRedactor.Redacted, (string?)redacted["password"]);
        Assert.Equal(SecretRedactor.Redacted, (string?)redacted["kubeconfig"]);
        Assert.Equal(SecretRedactor.Redacted, (string?)redacted["token"]);
        Assert.Equal(SecretRedactor.Redacted, (string?)redacted["secret"]);
        Assert.Equal($"called with {SecretRedactor.Redacted} by the agent", (string?)redacted["note"]);
        Assert.Equal($"postgres://admin:{SecretRedactor.Redacted}@db.internal:5432/app", (string?)redacted["url"]);
    }

    [Fact]
    public void Redact_KubernetesSecret_KeepsKeysDropsValues()
    {
        var secret = JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"type":"Opaque",
             "data":{"username":"YWRtaW4=","dbpass":"aHVudGVyMg=="},"stringData":{"conn":"host=db user=admin"}}
            """);
        var text = SecretRedactor.Redact(secret)!.ToJsonString();
        Assert.Contains("\"name\":\"db\"", text, StringComparison.Ordinal);
        Assert.Contains("\"username\":\"[REDACTED]\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("YWRtaW4=", text, StringComparison.Ordinal);
        Assert.DoesNotContain("aHVudGVyMg==", text, StringComparison.Ordinal);
        Assert.DoesNotContain("host=db", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_ConfigMapData_IsNotTreatedAsSecret()
    {
        var cm = JsonNode.Parse("""{"kind":"ConfigMap","data":{"mode":"fast"}}""");
        Assert.Equal("""{"kind":"ConfigMap","data":{"mode":"fast"}}""", SecretRedactor.Redact(cm)!.ToJsonString());
    }

    [Fact]
    public void RedactText_KubeconfigPastedAsText()
    {
        var kubeconfig = """
            apiVersion: v1
            clusters:
            - cluster:
                server: https://10.0.0.1:6443
              name: prod
            users:
            - name: admin
              user:
                client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t-planted
                token: kube-token-planted
            """;
        var redacted = SecretRedactor.RedactText(kubeconfig);
        Assert.DoesNotContain("planted", redacted, StringComparison.Ordinal);
        Assert.Contains("server: https://10.0.0.1:6443", redacted, StringComparison.Ordinal);
        Assert.Contains("client-key-data: [REDACTED]", redacted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [REDACTED]")]
    [InlineData("auth Basic dXNlcjpwYXNzd29yZA==", "auth Basic [REDACTED]")]
    [InlineData("DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED]")]
    [InlineData("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED] used")]
    [InlineData("nothing to see here", "nothing to see here")]
    [InlineData("", "")]
    public void RedactText_Shapes(string input, string expected) => Assert.Equal(expected, SecretRedactor.RedactText(input));

    [Fact]
    public void RedactText_PemBlock_IsReplacedWhole()
    {
        var redacted = SecretRedactor.RedactText("before\n" + Pem + "\nafter");
        Assert.Equal("before\n[REDACTED]\nafter", redacted);
    }

    [Fact]
    public void Redact_IsIdempotent()
    {
        var once = SecretRedactor.Redact(JsonNode.Parse("""{"password":"x","note":"Bearer abcdefghijkl"}"""));
        var twice = SecretRedactor.Redact(once);
        Assert.Equal(once!.ToJsonString(), twice!.ToJsonString());
    }
}
