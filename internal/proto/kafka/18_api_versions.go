package kafka

// ApiVersions, versions 0 to 4.
//
// Answers the version table (versions.go). A request newer than v4 is not
// parsed: it gets a v0 response with UNSUPPORTED_VERSION and the table,
// so that the client retries with a version both sides know. No features
// are advertised (SupportedFeatures, FinalizedFeatures stay empty).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleApiVersions(_ *conn, req *kmsg.ApiVersionsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = versionTable()
	return resp, nil
}

// unsupportedApiVersions answers an ApiVersions request newer than ours.
func unsupportedApiVersions() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = versionTable()
	return resp
}

func versionTable() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]kmsg.ApiVersionsResponseApiKey, 0, len(apis))
	for _, a := range apis {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.min, a.max
		keys = append(keys, k)
	}
	return keys
}
