import { Logger, Module } from '@nestjs/common';
import { GatewaySettings } from '../config/gateway-settings';
import { MetricsService } from '../metrics/metrics.service';
import { readCacheOptions } from './cache-options';
import { LocalCacheStore, type CacheStore } from './cache-store';
import { RedisCacheStore } from './redis-cache-store';
import { ResponseCache } from './response-cache.service';

/** The response cache, built once at boot from `litellm_settings.cache`/`cache_params` and the REDIS_* variables. */
@Module({
  providers: [
    {
      provide: ResponseCache,
      inject: [GatewaySettings, MetricsService],
      useFactory: (settings: GatewaySettings, metrics: MetricsService): ResponseCache => {
        const logger = new Logger('ResponseCache');
        const litellm = settings.config.litellmSettings;
        const options = readCacheOptions(litellm, settings.environment, process.env, (message) => logger.warn(message));
        // The store reports failures to the cache, which exists only after the store: late binding through `cache`.
        let cache: ResponseCache | null = null;
        const store: CacheStore =
          options.redis !== null
            ? new RedisCacheStore(options.redis, {
                onError: () => cache?.countError(),
                onStateChange: (message, level) => cache?.logState(message, level),
              })
            : new LocalCacheStore(options.local);
        cache = new ResponseCache(options, litellm.default_team_settings, store, metrics);
        const anyTeamOn = litellm.default_team_settings.some((entry) => entry.cache === true);
        if (options.enabledByDefault || anyTeamOn || options.redis !== null) logger.log(cache.describe());
        return cache;
      },
    },
  ],
  exports: [ResponseCache],
})
export class ResponseCacheModule {}
