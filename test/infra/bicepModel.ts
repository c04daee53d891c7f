/**
 * A small read-only model of Bicep files, built from tree-sitter-bicep's syntax tree.
 *
 * The Bicep compiler (a .NET binary) cannot run here, so the infra tests parse the templates
 * with tree-sitter and assert on declarations. Literal values (strings without interpolation,
 * numbers, booleans, null, arrays, objects) become plain values; everything else keeps its
 * source text, so a test can still check what an expression refers to.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Parser from 'tree-sitter';

type SyntaxNode = Parser.SyntaxNode;

const SHARED_PARSER_KEY = Symbol.for('flowlog-forwarder/test/tree-sitter');

/**
 * tree-sitter's index.js wraps getters of its native addon's prototypes, and Node loads the
 * addon once per process. Jest evaluates index.js again for every test file (a fresh module
 * registry per file); the second evaluation wraps the already-wrapped getters and every tree's
 * rootNode becomes undefined. So the first evaluation's Parser is kept on the addon object,
 * the one thing all test files of a worker share.
 */
function treeSitterParser(): typeof Parser {
  const treeSitterDirectory = path.dirname(require.resolve('tree-sitter/package.json'));
  const nodeGypBuild: unknown = require('node-gyp-build');
  if (typeof nodeGypBuild !== 'function') throw new Error('node-gyp-build (a dependency of tree-sitter) is missing');
  const addon: unknown = nodeGypBuild(treeSitterDirectory);
  if (typeof addon !== 'object' || addon === null) throw new Error('the tree-sitter native addon did not load');
  const shared: unknown = Reflect.get(addon, SHARED_PARSER_KEY);
  if (typeof shared === 'function') return shared as typeof Parser;
  const loaded: unknown = require('tree-sitter');
  if (typeof loaded !== 'function') throw new Error('tree-sitter did not export its Parser');
  Reflect.set(addon, SHARED_PARSER_KEY, loaded);
  return loaded as typeof Parser;
}

/** An expression that is not a literal: a reference, an interpolated string, an operator... */
export class BicepExpression {
  constructor(readonly text: string) {}
}

/** A function call, with its arguments converted (union(a, {...}) keeps the object literal). */
export class BicepCall extends BicepExpression {
  constructor(
    text: string,
    readonly functionName: string,
    readonly args: readonly BicepValue[],
  ) {
    super(text);
  }
}

/** A for-expression: `[for <header>: <body>]`. */
export class BicepLoop extends BicepExpression {
  constructor(
    text: string,
    readonly header: string,
    readonly body: BicepValue,
  ) {
    super(text);
  }
}

export type BicepValue = string | number | boolean | null | BicepExpression | readonly BicepValue[] | BicepObject;
export interface BicepObject {
  readonly [key: string]: BicepValue;
}

export interface Decorator {
  readonly name: string;
  readonly args: readonly BicepValue[];
}

export interface ParameterDeclaration {
  readonly name: string;
  readonly typeText: string;
  readonly defaultValue: BicepValue | undefined;
  readonly decorators: readonly Decorator[];
}

export interface VariableDeclaration {
  readonly name: string;
  readonly value: BicepValue;
  readonly decorators: readonly Decorator[];
}

export interface OutputDeclaration {
  readonly name: string;
  readonly typeText: string;
  readonly value: BicepValue;
  readonly valueText: string;
  readonly decorators: readonly Decorator[];
}

export interface ResourceDeclaration {
  /** Symbolic name; nested resources are `parent::child`. */
  readonly symbol: string;
  /** Full type, e.g. `Microsoft.Storage/storageAccounts/blobServices` (nested types expanded). */
  readonly type: string;
  readonly apiVersion: string;
  readonly existing: boolean;
  /** Source text of the `if (...)` condition, when conditional. */
  readonly condition: string | undefined;
  /** Source text of the loop header (`x in y`, `(x, i) in y`), when a loop. */
  readonly loop: string | undefined;
  readonly body: BicepObject;
  readonly decorators: readonly Decorator[];
}

export interface ModuleDeclaration {
  readonly symbol: string;
  readonly path: string;
  readonly condition: string | undefined;
  readonly loop: string | undefined;
  readonly body: BicepObject;
  readonly decorators: readonly Decorator[];
}

export interface ImportDeclaration {
  readonly names: readonly string[];
  readonly from: string;
}

export interface SyntaxProblem {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  readonly message: string;
}

export interface BicepFile {
  readonly path: string;
  readonly source: string;
  readonly syntaxProblems: readonly SyntaxProblem[];
  readonly imports: readonly ImportDeclaration[];
  readonly parameters: readonly ParameterDeclaration[];
  readonly variables: readonly VariableDeclaration[];
  readonly outputs: readonly OutputDeclaration[];
  readonly resources: readonly ResourceDeclaration[];
  readonly modules: readonly ModuleDeclaration[];
  /** Every string literal node's source text (quotes included), for scans such as host names. */
  readonly stringLiterals: readonly string[];
}

let sharedParser: Parser | undefined;

function bicepParser(): Parser {
  if (sharedParser === undefined) {
    const TreeSitterParser = treeSitterParser();
    sharedParser = new TreeSitterParser();
    // tree-sitter-bicep declares `language` as unknown where tree-sitter expects its own
    // Language type; at runtime it is exactly the object tree-sitter wants.
    const bicepGrammar: unknown = require('tree-sitter-bicep');
    sharedParser.setLanguage(bicepGrammar as Parser.Language);
  }
  return sharedParser;
}

const COMMENT_TYPES = new Set(['comment', 'diagnostic_comment']);

function contentChildren(node: SyntaxNode): SyntaxNode[] {
  return node.namedChildren.filter((child) => !COMMENT_TYPES.has(child.type));
}

function firstChildOfType(node: SyntaxNode, type: string): SyntaxNode | undefined {
  return node.namedChildren.find((child) => child.type === type);
}

/** `\'` and friends inside a single-quoted Bicep string. */
function decodeEscape(sequence: string): string {
  const simple: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };
  const mapped = simple[sequence];
  if (mapped !== undefined) return mapped;
  const codePoint = /^\\u\{([0-9a-fA-F]+)\}$/.exec(sequence);
  if (codePoint?.[1] !== undefined) return String.fromCodePoint(parseInt(codePoint[1], 16));
  return sequence;
}

function stringValue(node: SyntaxNode): string | BicepExpression {
  if (node.namedChildren.some((child) => child.type === 'interpolation')) return new BicepExpression(node.text);
  if (node.text.startsWith("'''")) return node.text.slice(3, -3);
  return node.namedChildren
    .map((child) => (child.type === 'escape_sequence' ? decodeEscape(child.text) : child.text))
    .join('');
}

function propertyKey(node: SyntaxNode): string {
  if (node.type === 'string') {
    const key = stringValue(node);
    return typeof key === 'string' ? key : key.text;
  }
  return node.text;
}

/** Converts an expression node to a plain value where it is a literal. */
export function toValue(node: SyntaxNode): BicepValue {
  switch (node.type) {
    case 'string':
      return stringValue(node);
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'array':
      return contentChildren(node)
        .filter((child) => child.type !== 'decorators')
        .map(toValue);
    case 'object': {
      const entries: Record<string, BicepValue> = {};
      for (const property of contentChildren(node)) {
        if (property.type !== 'object_property') continue;
        const parts = contentChildren(property);
        const keyNode = parts[0];
        const valueNode = parts[parts.length - 1];
        // Nested `resource` declarations are collected separately, not as values.
        if (keyNode === undefined || valueNode === undefined || keyNode.type === 'resource_declaration') continue;
        entries[propertyKey(keyNode)] = toValue(valueNode);
      }
      return entries;
    }
    case 'call_expression': {
      const functionNode = node.childForFieldName('function');
      const argumentsNode = node.childForFieldName('arguments');
      const args = argumentsNode === null ? [] : contentChildren(argumentsNode).map(toValue);
      return new BicepCall(node.text, functionNode?.text ?? '', args);
    }
    case 'for_statement': {
      const body = node.childForFieldName('body');
      const bodyValue = body === null ? null : toValue(body);
      const headerEnd = body === null ? node.text.length : body.startIndex - node.startIndex;
      const header = node.text
        .slice(0, headerEnd)
        .replace(/^\[\s*for\s+/, '')
        .replace(/:\s*$/, '')
        .trim();
      return new BicepLoop(node.text, header, bodyValue);
    }
    default:
      return new BicepExpression(node.text);
  }
}

function decoratorsOf(node: SyntaxNode | undefined): Decorator[] {
  if (node === undefined) return [];
  return contentChildren(node).flatMap((decorator) => {
    const call = firstChildOfType(decorator, 'call_expression');
    if (call === undefined) return [];
    const converted = toValue(call);
    return converted instanceof BicepCall ? [{ name: converted.functionName, args: converted.args }] : [];
  });
}

interface DeclarationValue {
  readonly body: SyntaxNode | undefined;
  readonly condition: string | undefined;
  readonly loop: string | undefined;
}

/** Unwraps `= {...}`, `= if (c) {...}`, `= [for x in y: {...}]` and `= [for x in y: if (c) {...}]`. */
function declarationValue(declaration: SyntaxNode): DeclarationValue {
  let loop: string | undefined;
  let condition: string | undefined;
  let current = declaration.namedChildren.find((child) => ['object', 'for_statement', 'if_statement'].includes(child.type));
  if (current?.type === 'for_statement') {
    const converted = toValue(current);
    loop = converted instanceof BicepLoop ? converted.header : undefined;
    current = current.childForFieldName('body') ?? undefined;
  }
  if (current?.type === 'if_statement') {
    condition = firstChildOfType(current, 'parenthesized_expression')?.text.replace(/^\(\s*|\s*\)$/g, '');
    current = firstChildOfType(current, 'object');
  }
  return { body: current?.type === 'object' ? current : undefined, condition, loop };
}

function asObject(value: BicepValue | undefined): BicepObject {
  return isBicepObject(value) ? value : {};
}

export function isBicepObject(value: BicepValue | undefined): value is BicepObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof BicepExpression);
}

function collectResources(
  declaration: SyntaxNode,
  decorators: Decorator[],
  parent: { symbol: string; type: string; apiVersion: string } | undefined,
  into: ResourceDeclaration[],
): void {
  const identifier = firstChildOfType(declaration, 'identifier');
  const typeNode = firstChildOfType(declaration, 'string');
  const typeValue = typeNode === undefined ? '' : stringValue(typeNode);
  const typeString = typeof typeValue === 'string' ? typeValue : typeValue.text;
  const [rawType = '', rawVersion] = typeString.split('@');
  const symbol = parent === undefined ? (identifier?.text ?? '') : `${parent.symbol}::${identifier?.text ?? ''}`;
  // A nested resource declares its type relative to the parent and inherits its API version.
  const type = parent === undefined || rawType.includes('/') ? rawType : `${parent.type}/${rawType}`;
  const apiVersion = rawVersion ?? parent?.apiVersion ?? '';
  const { body, condition, loop } = declarationValue(declaration);
  into.push({
    symbol,
    type,
    apiVersion,
    existing: declaration.children.some((child) => !child.isNamed && child.type === 'existing'),
    condition,
    loop,
    body: asObject(body === undefined ? undefined : toValue(body)),
    decorators,
  });
  if (body === undefined) return;
  for (const property of contentChildren(body)) {
    const nested = property.type === 'object_property' ? firstChildOfType(property, 'resource_declaration') : undefined;
    if (nested !== undefined) collectResources(nested, [], { symbol, type, apiVersion }, into);
  }
}

function syntaxProblemsOf(root: SyntaxNode): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: SyntaxNode): void => {
    const at = { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
    if (node.isMissing) {
      problems.push({ ...at, message: `missing ${node.type}` });
    } else if (node.type === 'ERROR') {
      problems.push({ ...at, message: `unexpected ${JSON.stringify(node.text.slice(0, 40))}` });
      return;
    }
    if (node.hasError) node.children.forEach(visit);
  };
  visit(root);
  if (problems.length === 0 && root.hasError) problems.push({ line: 1, column: 1, message: 'syntax error' });
  return problems;
}

/** Parses Bicep source text. `filePath` only labels the result. */
export function parseBicep(source: string, filePath = '<inline>'): BicepFile {
  const root = bicepParser().parse(source).rootNode;
  const imports: ImportDeclaration[] = [];
  const parameters: ParameterDeclaration[] = [];
  const variables: VariableDeclaration[] = [];
  const outputs: OutputDeclaration[] = [];
  const resources: ResourceDeclaration[] = [];
  const modules: ModuleDeclaration[] = [];

  // Decorators are siblings that precede the declaration they belong to.
  let pendingDecorators: Decorator[] = [];
  for (const statement of contentChildren(root)) {
    if (statement.type === 'decorators') {
      pendingDecorators = pendingDecorators.concat(decoratorsOf(statement));
      continue;
    }
    const decorators = pendingDecorators;
    pendingDecorators = [];
    const name = firstChildOfType(statement, 'identifier')?.text ?? '';
    const parts = contentChildren(statement);
    const lastPart = parts[parts.length - 1];
    switch (statement.type) {
      case 'import_functionality':
      case 'import_statement': {
        const fromNode = firstChildOfType(statement, 'string');
        const from = fromNode === undefined ? '' : stringValue(fromNode);
        imports.push({
          names: statement.namedChildren.filter((child) => child.type === 'identifier').map((child) => child.text),
          from: typeof from === 'string' ? from : from.text,
        });
        break;
      }
      case 'parameter_declaration': {
        const typeNode = firstChildOfType(statement, 'type');
        const hasDefault = statement.children.some((child) => !child.isNamed && child.type === '=');
        const defaultNode = hasDefault ? lastPart : undefined;
        parameters.push({ name, typeText: typeNode?.text ?? '', defaultValue: defaultNode === undefined ? undefined : toValue(defaultNode), decorators });
        break;
      }
      case 'variable_declaration':
        variables.push({ name, value: lastPart === undefined ? null : toValue(lastPart), decorators });
        break;
      case 'output_declaration':
        outputs.push({
          name,
          typeText: firstChildOfType(statement, 'type')?.text ?? '',
          value: lastPart === undefined ? null : toValue(lastPart),
          valueText: lastPart?.text ?? '',
          decorators,
        });
        break;
      case 'resource_declaration':
        collectResources(statement, decorators, undefined, resources);
        break;
      case 'module_declaration': {
        const pathNode = firstChildOfType(statement, 'string');
        const modulePath = pathNode === undefined ? '' : stringValue(pathNode);
        const { body, condition, loop } = declarationValue(statement);
        modules.push({
          symbol: name,
          path: typeof modulePath === 'string' ? modulePath : modulePath.text,
          condition,
          loop,
          body: asObject(body === undefined ? undefined : toValue(body)),
          decorators,
        });
        break;
      }
      default:
        break;
    }
  }

  return {
    path: filePath,
    source,
    syntaxProblems: syntaxProblemsOf(root),
    imports,
    parameters,
    variables,
    outputs,
    resources,
    modules,
    stringLiterals: root.descendantsOfType('string').map((node) => node.text),
  };
}

export function loadBicepFile(filePath: string): BicepFile {
  return parseBicep(fs.readFileSync(filePath, 'utf8'), filePath);
}

/** Every `.bicep` file under `directory`, sorted. */
export function findBicepFiles(directory: string): string[] {
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const fullPath = path.join(directory, entry.name);
      if (entry.isDirectory()) return findBicepFiles(fullPath);
      return entry.name.endsWith('.bicep') ? [fullPath] : [];
    })
    .sort();
}

/** Follows a dotted path through nested objects: `get(body, 'properties', 'filter')`. */
export function get(value: BicepValue | undefined, ...keys: string[]): BicepValue | undefined {
  let current: BicepValue | undefined = value;
  for (const key of keys) {
    if (!isBicepObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** Source text of any value: literal strings as-is, expressions by their text. */
export function textOf(value: BicepValue | undefined): string {
  if (value instanceof BicepExpression) return value.text;
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}
