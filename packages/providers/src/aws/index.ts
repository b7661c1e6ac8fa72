export {
  AWS_TEMPLATE_FILE,
  awsCloudFormationTemplate,
  awsDeployScript,
  awsQuickCreateUrl,
  awsStackName,
  awsTerraform,
  issuerHostPath,
} from './artifacts';
export { roleArnFromAssumedRole, roleSessionName } from './client';
export { awsDescriptor } from './descriptor';
export { awsProvider } from './provider';
export { AWS_AUDIENCE, AWS_OPTIONAL_ACTIONS, AWS_REQUIRED_ACTIONS, AwsLinkMetadata } from './schemas';
