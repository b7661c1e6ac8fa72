export {
  AWS_TEMPLATE_URL_PLACEHOLDER,
  awsCloudFormationTemplate,
  awsQuickCreateUrl,
  awsStackName,
  awsTerraform,
  issuerHostPath,
} from './artifacts';
export { awsProvider, roleArnFromAssumedRole, roleSessionName } from './provider';
export { AWS_AUDIENCE, AWS_OPTIONAL_ACTIONS, AWS_REQUIRED_ACTIONS, AwsLinkMetadata } from './schemas';
