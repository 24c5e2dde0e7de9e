package kafka

// DescribeCluster, versions 0 to 1.
//
// One broker, node 0, also the controller, at the advertised address;
// cluster ID "courier". Endpoint type 2 (controllers) is answered the
// same way. Authorized operations are not computed.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleDescribeCluster(c *conn, req *kmsg.DescribeClusterRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.ClusterID, resp.ControllerID = clusterID, nodeID
	resp.EndpointType = req.EndpointType
	resp.ClusterAuthorizedOperations = -2147483648
	b := kmsg.NewDescribeClusterResponseBroker()
	b.NodeID = nodeID
	b.Host, b.Port = c.advertised()
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{b}
	return resp, nil
}
