import { makeStyles, Typography } from '@material-ui/core';
import { LogoIcon } from './LogoIcon';

const useStyles = makeStyles({
  root: {
    display: 'flex',
    alignItems: 'center',
    gap: 10,
    color: '#fff',
    whiteSpace: 'nowrap',
  },
  title: {
    fontWeight: 700,
    fontSize: 17,
    lineHeight: 1.1,
    letterSpacing: 0.2,
  },
  subtitle: {
    fontSize: 11,
    opacity: 0.75,
  },
});

/** Logo of the expanded sidebar. */
export const LogoFull = () => {
  const classes = useStyles();
  return (
    <div className={classes.root}>
      <LogoIcon />
      <div>
        <Typography component="div" className={classes.title}>
          NHI Offboarding
        </Typography>
        <Typography component="div" className={classes.subtitle}>
          Acme Payments
        </Typography>
      </div>
    </div>
  );
};
