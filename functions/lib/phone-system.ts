import { configuredSurveyRequester } from '../phone/surveys.ts';
import { provide } from './deps.ts';

/**
 * The phone system named in the phone configuration (functions/phone/surveys.ts), for the
 * lifecycle's survey step and the caller notices. Imported by the functions that declare `phone`
 * in the registry only: the others do not bundle the Connect client.
 */
provide({ phone: configuredSurveyRequester });
