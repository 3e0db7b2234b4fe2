export {
  ResidualAccessBanner,
  hasResidualAccess,
} from './ResidualAccessBanner';
