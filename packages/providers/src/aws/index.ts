export {
  AWS_TEMPLATE_FILE,
  awsCloudFormationTemplate,
  awsDeployScript,
  awsQuickCreateUrl,
  awsStackName,
  awsTerraform,
  issuerHostPath,
} from './artifacts';
export { awsDescriptor } from './descriptor';
export { provider as awsProvider } from './provider';
export { AWS_AUDIENCE, AWS_OPTIONAL_ACTIONS, AWS_REQUIRED_ACTIONS, AwsLinkMetadata } from './schemas';
