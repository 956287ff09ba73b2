/**
 * No test may reach past 127.0.0.1. google-auth-library asks the GCE metadata server (169.254.169.254) for a token
 * when a Vertex AI deployment has no key file (Application Default Credentials), and a developer's gcloud login file
 * would be picked up before it: both are pointed at nothing here, unless a spec sets them to one of its fakes.
 */
process.env.GCE_METADATA_HOST ??= '127.0.0.1:9';
process.env.METADATA_SERVER_DETECTION ??= 'none';
process.env.CLOUDSDK_CONFIG ??= '/nonexistent/gatehouse-tests/gcloud';
