/*
 * The CloudFormation template rules that can be checked offline (no cfn-lint here): the top-level
 * sections and their shapes, and that every Ref, Fn::GetAtt, Fn::Sub variable, Condition and
 * Fn::If names something the template declares. Returns the problems found; empty means valid.
 */

const SECTIONS = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Transform',
  'Rules',
  'Resources',
  'Outputs',
]);
const PARAMETER_TYPES = new Set(['String', 'Number', 'List<Number>', 'CommaDelimitedList']);
const PARAMETER_KEYS = new Set([
  'Type',
  'Default',
  'AllowedPattern',
  'AllowedValues',
  'ConstraintDescription',
  'Description',
  'MaxLength',
  'MinLength',
  'MaxValue',
  'MinValue',
  'NoEcho',
]);
const PSEUDO = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);
const LOGICAL_ID = /^[A-Za-z0-9]{1,255}$/;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function checkCloudFormation(template: Record<string, Json>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(template)) if (!SECTIONS.has(key)) problems.push(`unknown top-level section ${key}`);
  if (template.AWSTemplateFormatVersion !== undefined && template.AWSTemplateFormatVersion !== '2010-09-09') {
    problems.push('AWSTemplateFormatVersion must be 2010-09-09');
  }
  const obj = (v: Json | undefined): Record<string, Json> =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Json>) : {};
  const parameters = obj(template.Parameters);
  const resources = obj(template.Resources);
  const conditions = obj(template.Conditions);
  const outputs = obj(template.Outputs);
  if (Object.keys(resources).length === 0) problems.push('Resources must declare at least one resource');

  for (const [name, p] of Object.entries(parameters)) {
    if (!LOGICAL_ID.test(name)) problems.push(`parameter ${name}: not an alphanumeric logical id`);
    const param = obj(p);
    const type = param.Type;
    if (typeof type !== 'string' || !(PARAMETER_TYPES.has(type) || type.startsWith('AWS::'))) {
      problems.push(`parameter ${name}: bad Type ${String(type)}`);
    }
    for (const k of Object.keys(param))
      if (!PARAMETER_KEYS.has(k)) problems.push(`parameter ${name}: unknown key ${k}`);
    if (typeof param.AllowedPattern === 'string' && typeof param.Default === 'string' && param.Default !== '') {
      if (!new RegExp(param.AllowedPattern).test(param.Default)) {
        problems.push(`parameter ${name}: Default does not match AllowedPattern`);
      }
    }
  }
  for (const [name, r] of Object.entries(resources)) {
    if (!LOGICAL_ID.test(name)) problems.push(`resource ${name}: not an alphanumeric logical id`);
    const res = obj(r);
    if (typeof res.Type !== 'string' || !/^(AWS|Custom)::[A-Za-z0-9]+(::[A-Za-z0-9]+)?$/.test(res.Type)) {
      problems.push(`resource ${name}: bad Type ${String(res.Type)}`);
    }
    if (res.Condition !== undefined && !(typeof res.Condition === 'string' && res.Condition in conditions)) {
      problems.push(`resource ${name}: unknown Condition ${String(res.Condition)}`);
    }
    for (const dep of [res.DependsOn ?? []].flat()) {
      if (typeof dep !== 'string' || !(dep in resources)) problems.push(`resource ${name}: DependsOn unknown ${dep}`);
    }
  }
  for (const [name, o] of Object.entries(outputs)) {
    if (obj(o).Value === undefined) problems.push(`output ${name}: no Value`);
  }

  const refable = (id: string) => id in parameters || id in resources || PSEUDO.has(id);
  const walk = (node: Json, where: string, inConditions: boolean): void => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) walk(n, `${where}[${i}]`, inConditions);
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'Ref') {
        if (typeof v !== 'string' || !refable(v)) problems.push(`${where}: Ref to unknown ${String(v)}`);
        else if (inConditions && v in resources) problems.push(`${where}: a Condition cannot Ref a resource (${v})`);
      } else if (k === 'Fn::GetAtt') {
        const target = Array.isArray(v) ? v[0] : typeof v === 'string' ? v.split('.')[0] : undefined;
        if (typeof target !== 'string' || !(target in resources)) {
          problems.push(`${where}: Fn::GetAtt on unknown resource ${String(target)}`);
        }
      } else if (k === 'Fn::Sub') {
        const [text, vars] = Array.isArray(v) ? [v[0], obj(v[1])] : [v, {}];
        for (const m of String(text).matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const id = m[1]!.split('.')[0]!;
          if (!(m[1]! in vars) && !refable(id)) problems.push(`${where}: Fn::Sub variable \${${m[1]}} is undeclared`);
        }
      } else if (k === 'Fn::If' || (k === 'Condition' && typeof v === 'string')) {
        const cond = k === 'Fn::If' ? (Array.isArray(v) ? v[0] : undefined) : v;
        if (k === 'Fn::If' && (!Array.isArray(v) || v.length !== 3)) problems.push(`${where}: Fn::If takes 3 items`);
        if (typeof cond !== 'string' || !(cond in conditions))
          problems.push(`${where}: unknown condition ${String(cond)}`);
      }
      walk(v, `${where}.${k}`, inConditions);
    }
  };
  for (const section of ['Resources', 'Outputs'] as const) walk(template[section] ?? null, section, false);
  walk(template.Conditions ?? null, 'Conditions', true);
  return problems;
}
