import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, ValidateIf } from 'class-validator';
import { RESOURCE_ID_PATTERN } from './metadata';

/** Validation shared by the key and team DTOs, so both refuse the same things with the same words. */
export const IsResourceId = (field: string) =>
  applyDecorators(IsString(), Matches(RESOURCE_ID_PATTERN, { message: `${field} must be 1-256 characters without spaces, slashes, ?, # or %` }));

export const IsOptionalModelList = () => applyDecorators(IsOptional(), IsArray(), ArrayMaxSize(1000), IsString({ each: true }));

const DURATION_PATTERN = /^\d{1,6}(s|m|h|d|w|mo|y)$/;

/** A key lifetime like `"30d"`; `null` is allowed and means "never expires". */
export const IsOptionalDuration = () =>
  applyDecorators(
    IsOptional(),
    ValidateIf((_dto, value) => value !== null),
    IsString(),
    Matches(DURATION_PATTERN, { message: 'duration must look like "30s", "15m", "12h", "30d", "2w", "6mo" or "1y"' }),
  );
