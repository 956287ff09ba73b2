import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches } from 'class-validator';
import { RESOURCE_ID_PATTERN } from './metadata';

/** Validation shared by the key and team DTOs, so both refuse the same things with the same words. */
export const IsResourceId = (field: string) =>
  applyDecorators(IsString(), Matches(RESOURCE_ID_PATTERN, { message: `${field} must be 1-256 characters without spaces, slashes, ?, # or %` }));

export const IsOptionalModelList = () => applyDecorators(IsOptional(), IsArray(), ArrayMaxSize(1000), IsString({ each: true }));
