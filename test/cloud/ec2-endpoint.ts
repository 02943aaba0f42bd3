/**
 * A tiny EC2-compatible HTTP endpoint on 127.0.0.1 (the EC2 query protocol: form-encoded Action=…, XML answers), for
 * tests that go through the real SDK stack — signing, AWS_ENDPOINT_URL, the retry strategy, XML parsing — without
 * leaving the machine. It knows the Describe calls `list` and `create --dry-run` make, and RunInstances as far as moto
 * and LocalStack check it (a root mapping needs a size or a snapshot), and can throttle the first N requests.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface EndpointState {
  /** Answer this many requests with 503 RequestLimitExceeded first. */
  throttle: number
  /** Every request: its Action and the Authorization header's credential scope. */
  requests: {action: string; authorization: string; params: URLSearchParams}[]
  /** Root volume size (GiB) of the images DescribeImages shows. */
  imageRootGiB: number
  /** Answer every request with this error (after throttling). */
  failWith?: {status: number; code: string; message: string}
}

const TAGS = '<tagSet><item><key>bastion:name</key><value>jump</value></item><item><key>managed-by</key><value>bastion</value></item></tagSet>'

/** moto's check (AWS fills the size in from the image, the emulators do not): every EBS mapping says its size or snapshot. */
function missingSize(params: URLSearchParams): boolean {
  const mappings = new Set([...params.keys()].map((k) => /^BlockDeviceMapping\.(\d+)\.Ebs\./.exec(k)?.[1]).filter((n) => n !== undefined))
  return [...mappings].some((n) => !params.has(`BlockDeviceMapping.${n}.Ebs.VolumeSize`) && !params.has(`BlockDeviceMapping.${n}.Ebs.SnapshotId`))
}

function body(action: string, params: URLSearchParams, st: EndpointState): string {
  const ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'
  switch (action) {
    case 'DescribeInstances':
      return `<DescribeInstancesResponse ${ns}><requestId>r1</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>
<instanceId>i-0123456789abcdef0</instanceId><instanceState><code>16</code><name>running</name></instanceState><instanceType>t3.micro</instanceType>
<ipAddress>3.3.3.3</ipAddress><privateIpAddress>10.0.0.10</privateIpAddress><subnetId>subnet-0aaaaaaaaaaaaaaa1</subnetId><vpcId>vpc-1</vpcId>
<groupSet><item><groupId>sg-1</groupId><groupName>bastion-jump</groupName></item></groupSet>${TAGS}</item></instancesSet></item></reservationSet></DescribeInstancesResponse>`
    case 'DescribeSecurityGroups':
      return `<DescribeSecurityGroupsResponse ${ns}><requestId>r2</requestId><securityGroupInfo><item><groupId>sg-1</groupId><groupName>bastion-jump</groupName>
<vpcId>vpc-1</vpcId><groupDescription>bastion jump</groupDescription>${TAGS}</item></securityGroupInfo></DescribeSecurityGroupsResponse>`
    case 'DescribeSecurityGroupRules':
      return `<DescribeSecurityGroupRulesResponse ${ns}><requestId>r3</requestId><securityGroupRuleSet><item><securityGroupRuleId>sgr-1</securityGroupRuleId>
<groupId>sg-1</groupId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><cidrIpv4>52.6.1.1/32</cidrIpv4>
<description>bastion:vendor=hevo</description></item></securityGroupRuleSet></DescribeSecurityGroupRulesResponse>`
    case 'DescribeAddresses':
      return `<DescribeAddressesResponse ${ns}><requestId>r4</requestId><addressesSet><item><publicIp>3.3.3.3</publicIp><allocationId>eipalloc-1</allocationId>
<associationId>eipassoc-1</associationId><instanceId>i-0123456789abcdef0</instanceId><domain>vpc</domain>${TAGS}</item></addressesSet></DescribeAddressesResponse>`
    case 'DescribeKeyPairs':
      return `<DescribeKeyPairsResponse ${ns}><requestId>r5</requestId><keySet/></DescribeKeyPairsResponse>`
    case 'DescribeSubnets':
      return `<DescribeSubnetsResponse ${ns}><requestId>r6</requestId><subnetSet><item><subnetId>${params.get('SubnetId.1') ?? 'subnet-0aaaaaaaaaaaaaaa1'}</subnetId>
<vpcId>vpc-1</vpcId><availabilityZone>eu-west-1a</availabilityZone></item></subnetSet></DescribeSubnetsResponse>`
    case 'DescribeRouteTables':
      return `<DescribeRouteTablesResponse ${ns}><requestId>r7</requestId><routeTableSet><item><routeTableId>rtb-1</routeTableId><vpcId>vpc-1</vpcId>
<routeSet><item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><gatewayId>igw-1</gatewayId><state>active</state></item></routeSet></item></routeTableSet></DescribeRouteTablesResponse>`
    case 'DescribeImages': {
      const n = [...params.entries()].find(([k, v]) => /^Filter\.\d+\.Name$/.test(k) && v === 'architecture')?.[0].split('.')[1]
      const arch = params.get(`Filter.${n}.Value.1`) === 'arm64' ? 'arm64' : 'x86_64'
      return `<DescribeImagesResponse ${ns}><requestId>r8</requestId><imagesSet><item><imageId>${params.get('ImageId.1') ?? 'ami-0ccccccccccccccc1'}</imageId>
<name>ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101</name><imageOwnerId>099720109477</imageOwnerId><imageState>available</imageState>
<architecture>${arch}</architecture><creationDate>2026-11-01T00:00:00.000Z</creationDate><rootDeviceName>/dev/sda1</rootDeviceName><rootDeviceType>ebs</rootDeviceType>
<blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><snapshotId>snap-1</snapshotId><volumeSize>${st.imageRootGiB}</volumeSize><volumeType>gp3</volumeType></ebs></item></blockDeviceMapping>
</item></imagesSet></DescribeImagesResponse>`
    }
    case 'RunInstances':
      return `<RunInstancesResponse ${ns}><requestId>r9</requestId><reservationId>r-2</reservationId><instancesSet><item><instanceId>i-0fedcba9876543210</instanceId>
<instanceState><code>0</code><name>pending</name></instanceState><instanceType>${params.get('InstanceType') ?? 't3.micro'}</instanceType></item></instancesSet></RunInstancesResponse>`
    default:
      return ''
  }
}

function error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>req-err</RequestID></Response>`
}

export async function startEndpoint(state: Partial<EndpointState> = {}): Promise<{url: string; state: EndpointState; close(): Promise<void>}> {
  const st: EndpointState = {throttle: 0, requests: [], imageRootGiB: 8, ...state}
  const server: Server = createServer((req, res) => {
    let data = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => (data += d))
    req.on('end', () => {
      const params = new URLSearchParams(data)
      const action = params.get('Action') ?? '?'
      st.requests.push({action, authorization: String(req.headers.authorization ?? ''), params})
      const send = (status: number, xml: string) => {
        res.writeHead(status, {'content-type': 'text/xml;charset=UTF-8'})
        res.end(xml)
      }
      if (st.throttle > 0) {
        st.throttle--
        return send(503, error('RequestLimitExceeded', 'Request limit exceeded.'))
      }
      if (st.failWith) return send(st.failWith.status, error(st.failWith.code, st.failWith.message))
      if (action === 'RunInstances' && missingSize(params)) return send(400, error('MissingParameter', 'The request must contain the parameter size or snapshotId'))
      const xml = body(action, params, st)
      if (!xml) return send(400, error('InvalidAction', `The action ${action} is not valid for this web service.`))
      send(200, `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    state: st,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
