/**
 * The AWS SDK, loaded on first use. Nothing else in bastion imports '@aws-sdk/client-ec2' as a value: every module
 * here that talks to EC2 calls `ec2sdk()` inside the function, so commands that never touch AWS (and `--help`) never
 * load the SDK (about 2 MB of JavaScript).
 */
type Ec2Module = typeof import('@aws-sdk/client-ec2')

let loading: Promise<Ec2Module> | undefined

export function ec2sdk(): Promise<Ec2Module> {
  loading ??= import('@aws-sdk/client-ec2')
  return loading
}
